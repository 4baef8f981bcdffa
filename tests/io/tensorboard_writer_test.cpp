// Event files checked with TensorBoard's own reader (tests/io/read_events.py run
// by the python3 on PATH, or $FLOWTRAIN_TB_PYTHON, with PyPI's tensorboard).
#include "framework/io/tensorboard_writer.h"

#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <tuple>

#include "framework/core/check.h"
#include "framework/io/png_writer.h"
#include "tests/support/scratch_dir.h"

using namespace ft::io;
using nlohmann::json;

namespace {

std::string python() {
  const char* env = std::getenv("FLOWTRAIN_TB_PYTHON");
  return env != nullptr && *env != '\0' ? env : "python3";
}

std::string script_path() {
  const char* src = std::getenv("FLOWTRAIN_SOURCE_DIR");
  if (src != nullptr && *src != '\0') return std::string(src) + "/tests/io/read_events.py";
  return (std::filesystem::path(__FILE__).parent_path() / "read_events.py").string();
}

// Runs a shell command; returns its exit status and stdout.
std::pair<int, std::string> run(const std::string& command) {
  std::FILE* pipe = ::popen(command.c_str(), "r");
  BOOST_REQUIRE_MESSAGE(pipe != nullptr, "cannot run: " << command);
  std::string out;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// Single-quoted for sh, so paths with spaces or quotes pass through unchanged.
std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

json read_events(const std::string& run_dir) {
  const std::string interpreter = quote(python());
  const int import_rc = run(fmt::format("{} -c 'import tensorboard' 2>&1", interpreter)).first;
  BOOST_REQUIRE_MESSAGE(import_rc == 0,
                        "the Python '" << python() << "' cannot import tensorboard: run "
                        "cluster/install-deps.sh or `python3 -m pip install tensorboard`, "
                        "or point FLOWTRAIN_TB_PYTHON at a Python that has it");
  const auto [rc, out] =
      run(fmt::format("{} {} {}", interpreter, quote(script_path()), quote(run_dir)));
  BOOST_REQUIRE_MESSAGE(rc == 0, "read_events.py failed (exit " << rc << ")");
  return json::parse(out);
}

std::string hex(const std::vector<uint8_t>& bytes) {
  std::string s;
  for (uint8_t b : bytes) s += fmt::format("{:02x}", b);
  return s;
}

std::vector<uint8_t> test_png(int height, int width, int channels, int seed) {
  std::vector<uint8_t> pixels(size_t(height * width * channels));
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = uint8_t(i * 7 + size_t(seed) * 31);
  return encode_png(pixels.data(), height, width, channels);
}

using ScalarKey = std::pair<std::string, int64_t>;  // (tag, step)

}  // namespace

BOOST_AUTO_TEST_SUITE(tensorboard_writer)

BOOST_AUTO_TEST_CASE(scalars_images_and_resume_read_by_tensorboard) {
  ft::testing::ScratchDir dir("io");
  const std::string run_dir = dir.str("run");  // created by the writer
  std::map<ScalarKey, float> want_scalars;
  const std::vector<uint8_t> kept_png = test_png(6, 10, 3, 1), later_png = test_png(4, 5, 1, 2);
  std::string first_path;
  {
    // First process: steps 0..9; it "crashes" after its checkpoint at step 6.
    TensorBoardWriter w(run_dir);
    first_path = w.path();
    for (int64_t step = 0; step < 10; ++step) {
      w.add_scalar("train/loss", 1.0 / double(step + 3), step);
      w.add_scalar("train/lr", 1e-4 * double(step), step);
      if (step < 6) {
        want_scalars[{"train/loss", step}] = float(1.0 / double(step + 3));
        want_scalars[{"train/lr", step}] = float(1e-4 * double(step));
      }
    }
    w.add_image("samples", kept_png, 6, 10, 3, 5);
    w.add_image("samples", test_png(6, 10, 3, 9), 6, 10, 3, 8);  // dropped by the restart
    w.flush();
  }
  {
    // Second process resumes at step 6: its START marker drops steps >= 6 above.
    TensorBoardWriter w(run_dir);
    BOOST_TEST(w.path() != first_path);  // a new file, even within the same second
    BOOST_TEST(w.path().find("/events.out.tfevents.") != std::string::npos);
    w.add_session_start(6);
    for (int64_t step = 6; step < 9; ++step) {
      w.add_scalar("train/loss", -2.5 * double(step), step);
      want_scalars[{"train/loss", step}] = float(-2.5 * double(step));
    }
    w.add_scalar("eval/bpd", 3.141592653589793, 8);
    want_scalars[{"eval/bpd", 8}] = float(3.141592653589793);
    w.add_image("samples", later_png, 4, 5, 1, 8);
    w.flush();
  }
  BOOST_TEST(std::filesystem::exists(first_path));

  const json got = read_events(run_dir);
  // 2 file_version + 20 + 2 images, then START + 3 + 1 + 1 image.
  BOOST_TEST(got["records"].get<int>() == 2 + 20 + 2 + 1 + 3 + 1 + 1);
  std::map<ScalarKey, float> got_scalars;
  for (const json& s : got["scalars"]) {
    const ScalarKey key{s["tag"].get<std::string>(), s["step"].get<int64_t>()};
    BOOST_TEST(got_scalars.count(key) == 0u, "duplicate " << key.first << "@" << key.second);
    got_scalars[key] = float(s["value"].get<double>());  // exact: Python holds the float32
  }
  BOOST_TEST(got_scalars.size() == want_scalars.size());
  for (const auto& [key, value] : want_scalars) {
    BOOST_REQUIRE_MESSAGE(got_scalars.count(key) == 1,
                          "missing " << key.first << "@" << key.second);
    BOOST_TEST(got_scalars[key] == value, key.first << "@" << key.second);
  }

  const json& images = got["images"];
  BOOST_REQUIRE(images.size() == 2u);
  const auto check_image = [](const json& im, int64_t step, int height, int width,
                              const std::vector<uint8_t>& png) {
    BOOST_TEST(im["tag"].get<std::string>() == "samples");
    BOOST_TEST(im["step"].get<int64_t>() == step);
    BOOST_TEST(im["height"].get<int>() == height);
    BOOST_TEST(im["width"].get<int>() == width);
    BOOST_TEST(im["png_hex"].get<std::string>() == hex(png));
  };
  check_image(images[0], 5, 6, 10, kept_png);
  check_image(images[1], 8, 4, 5, later_png);
}

BOOST_AUTO_TEST_CASE(large_steps_and_values) {
  ft::testing::ScratchDir dir("io");
  TensorBoardWriter w(dir.str());
  const int64_t big = int64_t(1) << 40;  // multi-byte varints
  w.add_scalar("x", 1e30, big);
  w.add_scalar("y", -0.0, 0);
  w.flush();
  const json got = read_events(dir.str());
  BOOST_REQUIRE(got["scalars"].size() == 2u);
  BOOST_TEST(got["scalars"][0]["step"].get<int64_t>() == big);
  BOOST_TEST(float(got["scalars"][0]["value"].get<double>()) == float(1e30));
  BOOST_TEST(got["scalars"][1]["value"].get<double>() == 0.0);
}

BOOST_AUTO_TEST_CASE(errors_name_the_file) {
  ft::testing::ScratchDir dir("io");
  const std::string blocker = dir.str("not_a_dir");
  { std::FILE* f = std::fopen(blocker.c_str(), "w"); std::fclose(f); }
  // A regular file where the run directory should be: creation must fail loudly.
  BOOST_CHECK_EXCEPTION(TensorBoardWriter(blocker + "/run"), ft::Error, [&](const ft::Error& e) {
    return std::string(e.what()).find(blocker) != std::string::npos;
  });
  TensorBoardWriter w(dir.str());
  BOOST_CHECK_THROW(w.add_image("bad", {}, 2, 2, 1, 0), ft::Error);
  BOOST_CHECK_THROW(w.add_image("bad", {1}, 2, 2, 5, 0), ft::Error);
}

BOOST_AUTO_TEST_SUITE_END()
