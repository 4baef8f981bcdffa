// A conversion split into ranges of shards (as `data convert` under mpirun splits
// it) writes the same bytes as one process: each part opens its own source and
// skips to its first image, so this checks every source's skip(). IDX and npz are
// also checked end to end under mpirun (tests/datasets/test_convert_ranks.py).
#include <boost/test/unit_test.hpp>

#include <fstream>

#include "datasets/convert.h"
#include "tests/datasets/test_support.h"

namespace ft::datasets {
using namespace testing;

namespace {

std::vector<uint8_t> file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Converts in one process into DIR/whole and in parts [0, cuts[0]), [cuts[0], cuts[1]), ...
// into DIR/split; every file of the two sets must be the same bytes.
void check_split_matches_whole(const std::string& kind, const std::vector<std::filesystem::path>& paths,
                               ConvertOptions options, const std::filesystem::path& dir,
                               const std::vector<int64_t>& cuts) {
  options.out = dir / "whole";
  auto source = open_image_source(kind, paths);
  Manifest whole = convert_images(*source, options);

  options.out = dir / "split";
  auto planning = open_image_source(kind, paths);
  ConversionPlan plan = plan_conversion(*planning, options);
  prepare_output(options.out);
  std::vector<ConvertedShards> parts;
  int64_t begin = 0;
  for (int64_t end : cuts) {
    auto part_source = open_image_source(kind, paths);
    part_source->skip(plan.first_image(begin));
    ConvertedShards part = convert_shards(*part_source, plan, options, begin, end);
    parts.push_back(ConvertedShards::from_json(part.to_json()));  // as the ranks exchange them
    begin = end;
  }
  BOOST_REQUIRE_EQUAL(begin, plan.shards);
  Manifest split = finish_conversion(*planning, plan, parts, options.out);
  BOOST_TEST(split.count == whole.count);
  BOOST_TEST(split.skipped_images == whole.skipped_images);
  BOOST_TEST(split.num_classes == whole.num_classes);
  for (const auto& entry : std::filesystem::directory_iterator(dir / "whole")) {
    std::filesystem::path other = dir / "split" / entry.path().filename();
    BOOST_TEST_REQUIRE(std::filesystem::exists(other), other.string());
    BOOST_TEST((file_bytes(entry.path()) == file_bytes(other)), entry.path().filename().string() << " differs");
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(convert_split)

BOOST_AUTO_TEST_CASE(cifar10_parts_start_inside_and_across_batch_files) {
  ScratchDir scratch("split-cifar");
  std::filesystem::create_directories(scratch / "cifar");
  for (int file = 0; file < 3; ++file) {
    std::vector<uint8_t> bytes;
    for (int i = 0; i < 9; ++i) {
      Image image = make_image(32, 32, 3, uint32_t(50 * file + i));
      bytes.push_back(uint8_t((file + i) % 10));
      for (int c = 0; c < 3; ++c)
        for (int p = 0; p < 1024; ++p) bytes.push_back(image.pixels[size_t(p * 3 + c)]);
    }
    std::ofstream out(scratch / "cifar" / ("data_batch_" + std::to_string(file + 1) + ".bin"), std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  }
  ConvertOptions options;
  options.shards = 5;       // 27 images: shards of 5-6, the second part starts inside file 1
  options.block_images = 4;  // blocks end inside shards too
  check_split_matches_whole("cifar10", {scratch / "cifar"}, options, scratch.path(), {2, 3, 5});
}

BOOST_AUTO_TEST_CASE(image_folder_parts_with_a_skipped_image) {
  ScratchDir scratch("split-folder");
  for (const char* label : {"a", "b"}) std::filesystem::create_directories(scratch / "src" / label);
  for (int i = 0; i < 7; ++i) {
    write_png(scratch / "src" / "a" / ("img" + std::to_string(i) + ".png"), make_image(10, 12, 3, uint32_t(i)));
    write_png(scratch / "src" / "b" / ("img" + std::to_string(i) + ".png"), make_image(9, 9, 1, uint32_t(20 + i)));
  }
  std::ofstream(scratch / "src" / "b" / "img3.png") << "not a png";  // counted as skipped, in its part
  ConvertOptions options;
  options.resolution = 8;
  options.shards = 4;
  options.on_bad_image = BadImagePolicy::skip;
  options.report_skipped = [](const std::string&) {};
  check_split_matches_whole("imagefolder", {scratch / "src"}, options, scratch.path(), {1, 4});
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace ft::datasets
