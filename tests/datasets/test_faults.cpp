// Every fault gives a clear error naming the file.
#include <boost/test/unit_test.hpp>
#include <fmt/core.h>
#include <fstream>

#include "framework/io/durable_file.h"
#include "datasets/convert.h"
#include "datasets/reader.h"
#include "datasets/verify.h"
#include "tests/datasets/test_support.h"

namespace ft::datasets {
using namespace testing;

namespace {

std::filesystem::path make_folder(const std::filesystem::path& root, int images, int64_t side) {
  for (int i = 0; i < images; ++i) {
    std::filesystem::path dir = root / fmt::format("c{}", i % 2);
    std::filesystem::create_directories(dir);
    write_png(dir / fmt::format("{}.png", i), make_image(side, side, 3, uint32_t(i)));
  }
  return root;
}

Manifest convert_folder(const std::filesystem::path& src, const std::filesystem::path& out, int64_t resolution,
                        BadImagePolicy policy = BadImagePolicy::fail, std::vector<std::string>* skipped = nullptr) {
  ConvertOptions options;
  options.out = out;
  options.resolution = resolution;
  options.shards = 3;
  options.on_bad_image = policy;
  options.report_skipped = [skipped](const std::string& line) {
    if (skipped) skipped->push_back(line);
  };
  auto source = open_image_source("imagefolder", {src});
  return convert_images(*source, options);
}

ReaderOptions reader_on(const std::filesystem::path& dir, bool verify_checksums = true) {
  ReaderOptions options;
  options.dir = dir;
  options.global_batch = 2;
  options.verify_checksums = verify_checksums;
  return options;
}

void overwrite(const std::filesystem::path& path, std::streamoff at, const std::string& bytes) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekp(at);
  file.write(bytes.data(), std::streamsize(bytes.size()));
}

struct Fixture {
  ScratchDir scratch{"faults"};
  std::filesystem::path src = make_folder(scratch / "src", 9, 6);
  std::filesystem::path set = scratch / "set";
  std::filesystem::path shard1 = set / "shard-00001-of-00003.h5";
  Fixture() { convert_folder(src, set, 6); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(faults)

BOOST_FIXTURE_TEST_CASE(missing_shard, Fixture) {
  std::filesystem::remove(shard1);
  expect_error([&] { verify_dataset(set); }, {"shard-00001-of-00003.h5", "missing shard"});
  expect_error([&] { Reader reader(reader_on(set)); }, {"shard-00001-of-00003.h5", "missing shard"});
}

BOOST_FIXTURE_TEST_CASE(truncated_shard, Fixture) {
  std::filesystem::resize_file(shard1, std::filesystem::file_size(shard1) / 2);
  expect_error([&] { verify_dataset(set); }, {"shard-00001-of-00003.h5", "truncated"});
  expect_error([&] { Reader reader(reader_on(set, false)); }, {"shard-00001-of-00003.h5", "truncated"});
}

// HDF5 reads past the end of a file as zeros: a shard truncated under a running
// reader must stop it with an error, not feed the model blank images.
BOOST_FIXTURE_TEST_CASE(shard_truncated_while_reading, Fixture) {
  ReaderOptions options = reader_on(set, false);
  options.queue_batches = 1;
  options.threads = 1;  // one worker: its handle on shard 1 is open when the file shrinks
  Reader reader(options);
  for (int i = 0; i < 5; ++i) reader.next();  // a whole epoch (9 images): every shard opened
  std::filesystem::resize_file(shard1, std::filesystem::file_size(shard1) / 2);
  expect_error(
      [&] {
        for (int i = 0; i < 40; ++i) reader.next();  // several epochs: shard 1 is read again
      },
      {"shard-00001-of-00003.h5", "truncated or replaced"});
}

BOOST_FIXTURE_TEST_CASE(corrupt_shard_header, Fixture) {
  overwrite(shard1, 0, std::string(64, 'x'));
  expect_error([&] { Reader reader(reader_on(set, false)); }, {"shard-00001-of-00003.h5", "not a readable HDF5 file"});
  expect_error([&] { verify_dataset(set); }, {"shard-00001-of-00003.h5", "checksum mismatch"});
}

BOOST_FIXTURE_TEST_CASE(checksum_mismatch_in_pixel_data, Fixture) {
  // The last byte of the file lies in the image data; HDF5 still opens the file.
  auto size = std::streamoff(std::filesystem::file_size(shard1));
  std::ifstream in(shard1, std::ios::binary);
  in.seekg(size - 1);
  char last = char(in.get());
  in.close();
  overwrite(shard1, size - 1, std::string(1, char(last ^ 0x5A)));
  expect_error([&] { verify_dataset(set); }, {"shard-00001-of-00003.h5", "checksum mismatch"});
  expect_error([&] { Reader reader(reader_on(set)); }, {"shard-00001-of-00003.h5", "checksum mismatch"});
}

BOOST_FIXTURE_TEST_CASE(shards_with_different_image_shapes, Fixture) {
  std::filesystem::path other = scratch / "other";
  convert_folder(src, other, 4);
  std::filesystem::copy_file(other / "shard-00001-of-00003.h5", shard1, std::filesystem::copy_options::overwrite_existing);
  // Record the foreign shard honestly so only its shape is wrong.
  Manifest manifest = read_manifest(set);
  manifest.shards[1].bytes = int64_t(std::filesystem::file_size(shard1));
  manifest.shards[1].checksum = io::digest_file(shard1).checksum;
  std::filesystem::remove(set / kManifestFile);
  write_manifest(set, manifest);
  expect_error([&] { verify_dataset(set); }, {"shard-00001-of-00003.h5", "different image shapes", "[3, 4, 4, 3]"});
  expect_error([&] { Reader reader(reader_on(set)); }, {"shard-00001-of-00003.h5", "different image shapes"});
}

BOOST_FIXTURE_TEST_CASE(manifest_of_another_format_or_version, Fixture) {
  nlohmann::json json = read_manifest(set).to_json();
  json["version"] = 3;  // 1 is an image set, 2 names its kind (images or vectors)
  std::ofstream(set / kManifestFile) << json.dump();
  expect_error([&] { read_manifest(set); }, {"manifest.json", "version 3"});
  json["version"] = 2;  // without its kind
  std::ofstream(set / kManifestFile) << json.dump();
  expect_error([&] { read_manifest(set); }, {"manifest.json", "missing field 'kind'"});
  json["version"] = 1;
  json["format"] = "something-else";
  std::ofstream(set / kManifestFile) << json.dump();
  expect_error([&] { Reader reader(reader_on(set)); }, {"manifest.json", "format 'something-else'"});
}

BOOST_AUTO_TEST_CASE(empty_source_folder) {
  ScratchDir scratch("empty");
  std::filesystem::create_directories(scratch / "src" / "class_a");
  std::ofstream(scratch / "src" / "class_a" / "notes.txt") << "not an image";
  expect_error([&] { open_image_source("imagefolder", {scratch / "src"}); }, {(scratch / "src").string(), "empty source folder"});
}

BOOST_AUTO_TEST_CASE(undecodable_image_fails_or_is_skipped_and_counted) {
  ScratchDir scratch("badimage");
  std::filesystem::path src = make_folder(scratch / "src", 6, 6);
  std::ofstream(src / "c1" / "broken.png") << "\x89PNG\r\n\x1a\n this is not a png";
  // A truncated JPEG: the header of a real one, cut short.
  write_jpeg(scratch / "whole.jpg", make_smooth_image(16, 16, 1), 90);
  std::filesystem::copy_file(scratch / "whole.jpg", src / "c0" / "cut.jpg");
  std::filesystem::resize_file(src / "c0" / "cut.jpg", std::filesystem::file_size(scratch / "whole.jpg") / 2);

  expect_error([&] { convert_folder(src, scratch / "failed", 6); }, {"cut.jpg", "does not decode", "--on-bad-image skip"});
  // The failed conversion left no manifest and no temporary shard behind.
  BOOST_TEST(!std::filesystem::exists(scratch / "failed" / kManifestFile));
  for (const auto& entry : std::filesystem::directory_iterator(scratch / "failed"))
    BOOST_TEST(entry.path().extension() != ".tmp");
  expect_error([&] { Reader reader(reader_on(scratch / "failed")); }, {"manifest.json", "interrupted conversion"});

  std::vector<std::string> skipped;
  Manifest manifest = convert_folder(src, scratch / "skipped", 6, BadImagePolicy::skip, &skipped);
  BOOST_TEST(manifest.count == 6);
  BOOST_TEST(manifest.skipped_images == 2);
  BOOST_REQUIRE_EQUAL(skipped.size(), 2u);
  BOOST_TEST(skipped[0].find("cut.jpg") != std::string::npos);
  BOOST_TEST(skipped[1].find("broken.png") != std::string::npos);
  verify_dataset(scratch / "skipped");
}

BOOST_AUTO_TEST_CASE(conversion_refuses_to_overwrite_a_dataset) {
  ScratchDir scratch("overwrite");
  std::filesystem::path src = make_folder(scratch / "src", 4, 6);
  convert_folder(src, scratch / "set", 6);
  expect_error([&] { convert_folder(src, scratch / "set", 6); }, {"already holds a dataset"});
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace ft::datasets
