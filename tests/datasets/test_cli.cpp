// `flowtrain data convert|verify|info` through the binary: exit codes and messages.
#include <boost/test/unit_test.hpp>
#include <fmt/core.h>
#include <fstream>

#include "tests/datasets/test_support.h"

namespace ft::datasets {
using namespace testing;

BOOST_AUTO_TEST_SUITE(cli)

BOOST_AUTO_TEST_CASE(convert_verify_info_and_a_corrupted_shard) {
  ScratchDir scratch("cli");
  for (int i = 0; i < 6; ++i) {
    std::filesystem::path class_dir = scratch / "src" / fmt::format("k{}", i % 3);
    std::filesystem::create_directories(class_dir);
    write_png(class_dir / fmt::format("{}.png", i), make_image(12, 10, 3, uint32_t(i)));
  }
  std::string out, set = (scratch / "set").string();
  BOOST_TEST(run_flowtrain("data convert --from imagefolder " + (scratch / "src").string() + " --out " + set +
                               " --images-per-shard 4 --resolution 8",
                           out) == 0);
  BOOST_TEST_INFO(out);
  BOOST_TEST(out.find("converted 6 images (8x8x3) into 2 shards") != std::string::npos);

  BOOST_TEST(run_flowtrain("data verify " + set, out) == 0);
  BOOST_TEST(out.find("ok: 2 shards, 6 images") != std::string::npos);
  BOOST_TEST(run_flowtrain("data info " + set, out) == 0);
  BOOST_TEST(out.find("images:   6 (8x8x3 uint8, NHWC)") != std::string::npos);
  BOOST_TEST(out.find("k0, k1, k2") != std::string::npos);

  std::filesystem::path shard = scratch / "set" / "shard-00001-of-00002.h5";
  {
    std::fstream file(shard, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(std::streamoff(std::filesystem::file_size(shard) - 1));
    file.put('\x7f');
  }
  BOOST_TEST(run_flowtrain("data verify " + set, out) == 1);
  BOOST_TEST_INFO(out);
  // One line of cause, after the progress line of the good shard (3 of the 6 images).
  BOOST_TEST(out.find("verifying: 3/6 images (50.0%)") == 0);
  const size_t cause = out.find('\n') + 1;
  BOOST_TEST(out.find("shard-00001-of-00002.h5: checksum mismatch", cause) != std::string::npos);
  BOOST_TEST(std::count(out.begin() + std::ptrdiff_t(cause), out.end(), '\n') == 1);
}

BOOST_AUTO_TEST_CASE(bad_arguments_fail_with_one_line) {
  ScratchDir scratch("cli-bad");
  std::string out;
  BOOST_TEST(run_flowtrain("data convert --from imagefolder " + (scratch / "nowhere").string() + " --out " +
                               (scratch / "set").string() + " --resolution 8",
                           out) != 0);
  BOOST_TEST(out.find("nowhere: no such source folder") != std::string::npos);
  BOOST_TEST(run_flowtrain("data convert --from tiff x --out y", out) != 0);
  BOOST_TEST(run_flowtrain("data convert --from idx x --out y --shards 2 --images-per-shard 3", out) != 0);
  BOOST_TEST(run_flowtrain("data verify " + (scratch / "missing").string(), out) == 1);
  BOOST_TEST(out.find("no such dataset folder") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace ft::datasets
