#include "framework/io/metrics_writer.h"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <limits>

#include "framework/core/check.h"
#include "tests/support/scratch_dir.h"

using namespace ft::io;
using nlohmann::json;

namespace {

// Every line of the file parsed as JSON (parse throws on an invalid line).
std::vector<json> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  return lines;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics_writer)

BOOST_AUTO_TEST_CASE(one_object_per_line_flushed) {
  ft::testing::ScratchDir dir("io");
  const std::string path = dir.str("metrics.jsonl");
  MetricsWriter w(path, false);
  w.write({{"step", 1}, {"loss", 3.25}, {"tag", "a\nb"}});
  // Flushed per line: readable while the writer is still open.
  BOOST_TEST(read_lines(path).size() == 1u);
  w.write({{"step", 2}, {"loss", std::numeric_limits<double>::quiet_NaN()}});
  const std::vector<json> lines = read_lines(path);
  BOOST_REQUIRE(lines.size() == 2u);
  BOOST_TEST(lines[0]["loss"].get<double>() == 3.25);
  BOOST_TEST(lines[0]["tag"].get<std::string>() == "a\nb");
  BOOST_TEST(lines[1]["loss"].is_null());  // NaN has no JSON form
}

BOOST_AUTO_TEST_CASE(truncate_versus_append) {
  ft::testing::ScratchDir dir("io");
  const std::string path = dir.str("metrics.jsonl");
  MetricsWriter(path, false).write({{"step", 1}});
  MetricsWriter(path, true).write({{"step", 2}});  // resume keeps step 1
  std::vector<json> lines = read_lines(path);
  BOOST_REQUIRE(lines.size() == 2u);
  BOOST_TEST(lines[0]["step"].get<int>() == 1);
  BOOST_TEST(lines[1]["step"].get<int>() == 2);
  MetricsWriter(path, false).write({{"step", 3}});  // a fresh run starts over
  lines = read_lines(path);
  BOOST_REQUIRE(lines.size() == 1u);
  BOOST_TEST(lines[0]["step"].get<int>() == 3);
  MetricsWriter appended(dir.str("new.jsonl"), true);  // append creates a missing file
  appended.write({{"step", 4}});
  BOOST_TEST(read_lines(dir.str("new.jsonl")).size() == 1u);
}

BOOST_AUTO_TEST_CASE(errors_name_the_file) {
  const auto names = [](const std::string& path) {
    return [path](const ft::Error& e) {
      return std::string(e.what()).find(path) != std::string::npos;
    };
  };
  BOOST_CHECK_EXCEPTION(MetricsWriter("/nonexistent_dir/m.jsonl", false), ft::Error,
                        names("/nonexistent_dir/m.jsonl"));
  // /dev/full accepts the open and fails every write with ENOSPC: a full disk.
  MetricsWriter full("/dev/full", true);
  BOOST_CHECK_EXCEPTION(full.write({{"step", 1}}), ft::Error, names("/dev/full"));
  ft::testing::ScratchDir dir("io");
  MetricsWriter w(dir.str("m.jsonl"), false);
  BOOST_CHECK_THROW(w.write(json::array({1, 2})), ft::Error);
}

BOOST_AUTO_TEST_CASE(resume_drops_the_records_past_the_checkpoint) {
  ft::testing::ScratchDir dir("io");
  std::string path = dir.str("metrics.jsonl");
  {
    std::ofstream out(path);
    out << R"({"step": 5, "loss": 1.0})" << "\n"
        << R"({"step": 10, "eval_bits_per_dim": 3.0})" << "\n"
        << R"({"step": 15, "loss": 0.5})" << "\n"
        << R"({"step": 20, "lo)";  // torn by a crash
  }
  drop_records_after(path, 10);
  MetricsWriter writer(path, true);
  writer.write({{"step", 11}});
  std::ifstream in(path);
  std::vector<int64_t> steps;
  for (std::string line; std::getline(in, line);) steps.push_back(nlohmann::json::parse(line)["step"].get<int64_t>());
  BOOST_TEST((steps == std::vector<int64_t>{5, 10, 11}));
  drop_records_after(dir.str("missing.jsonl"), 3);  // nothing to do
  BOOST_TEST(!std::filesystem::exists(dir.str("missing.jsonl")));
}

BOOST_AUTO_TEST_SUITE_END()
