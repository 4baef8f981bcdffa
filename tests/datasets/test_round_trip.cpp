// Convert, read back: the bytes equal the source pixels, for every source format.
#include <zlib.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>

#include "datasets/convert.h"
#include "datasets/verify.h"
#include "tests/datasets/test_support.h"
#include "tests/support/test_data.h"

namespace ft::datasets {
using namespace testing;

namespace {

std::vector<uint8_t> gunzip_file(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  BOOST_REQUIRE(file != nullptr);
  std::vector<uint8_t> bytes, buffer(1 << 16);
  int got = 0;
  while ((got = gzread(file, buffer.data(), unsigned(buffer.size()))) > 0) bytes.insert(bytes.end(), buffer.begin(), buffer.begin() + got);
  gzclose(file);
  return bytes;
}

Manifest convert(const std::string& kind, const std::vector<std::filesystem::path>& paths, ConvertOptions options) {
  auto source = open_image_source(kind, paths);
  return convert_images(*source, options);
}

void write_bytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(round_trip)

BOOST_AUTO_TEST_CASE(fashion_mnist_from_debian_equals_the_idx_files) {
  const std::filesystem::path root = ft::testing::fashion_mnist_dir();
  std::string images_path = (root / "t10k-images-idx3-ubyte.gz").string();
  std::string labels_path = (root / "t10k-labels-idx1-ubyte.gz").string();
  if (root.empty() || !std::filesystem::exists(images_path)) {
    BOOST_TEST_MESSAGE("no Fashion-MNIST at $FLOWTRAIN_FASHION_MNIST (" << root << "); skipping");
    return;
  }
  ScratchDir scratch("fmnist");
  ConvertOptions options;
  options.out = scratch / "set";
  options.shards = 3;
  Manifest manifest = convert("idx", {images_path, labels_path}, options);
  BOOST_TEST(manifest.count == 10000);
  BOOST_TEST(manifest.shards.size() == 3u);
  BOOST_TEST(manifest.num_classes == 10);
  verify_dataset(options.out);

  std::vector<uint8_t> idx_images = gunzip_file(images_path), idx_labels = gunzip_file(labels_path);
  Contents contents = read_back(options.out);
  BOOST_TEST(contents.manifest.height == 28);
  BOOST_TEST(contents.manifest.channels == 1);
  std::vector<uint8_t> expected_pixels(idx_images.begin() + 16, idx_images.end());
  BOOST_TEST(contents.pixels == expected_pixels, boost::test_tools::per_element());
  BOOST_REQUIRE_EQUAL(contents.labels.size(), idx_labels.size() - 8);
  bool labels_equal = true;
  for (size_t i = 0; i < contents.labels.size(); ++i) labels_equal &= contents.labels[i] == idx_labels[8 + i];
  BOOST_TEST(labels_equal);
}

BOOST_AUTO_TEST_CASE(uncompressed_idx_with_images_per_shard) {
  ScratchDir scratch("idx");
  const int64_t n = 50, side = 5;
  std::vector<uint8_t> images = {0, 0, 8, 3, 0, 0, 0, uint8_t(n), 0, 0, 0, side, 0, 0, 0, side};
  std::vector<uint8_t> labels = {0, 0, 8, 1, 0, 0, 0, uint8_t(n)};
  Image pixels = make_image(n * side, side, 1, 3);
  images.insert(images.end(), pixels.pixels.begin(), pixels.pixels.end());
  for (int64_t i = 0; i < n; ++i) labels.push_back(uint8_t(i % 7));
  write_bytes(scratch / "labels.idx", labels);
  write_bytes(scratch / "images.idx", images);
  ConvertOptions options;
  options.out = scratch / "set";
  options.images_per_shard = 16;
  // Labels first: the files are told apart by their headers, not their order.
  Manifest manifest = convert("idx", {scratch / "labels.idx", scratch / "images.idx"}, options);
  BOOST_TEST(manifest.shards.size() == 4u);
  BOOST_TEST(manifest.shards[0].count == 12);
  Contents contents = read_back(options.out);
  BOOST_TEST(contents.pixels == pixels.pixels, boost::test_tools::per_element());
  for (int64_t i = 0; i < n; ++i) BOOST_TEST(contents.labels[size_t(i)] == i % 7);
}

BOOST_AUTO_TEST_CASE(cifar10_batches_with_class_names) {
  ScratchDir scratch("cifar");
  std::filesystem::create_directories(scratch / "cifar");
  std::vector<Image> expected;
  std::vector<int> expected_labels;
  for (int file = 0; file < 2; ++file) {
    std::vector<uint8_t> bytes;
    for (int i = 0; i < 7; ++i) {
      Image image = make_image(32, 32, 3, uint32_t(100 * file + i));
      int label = (file * 7 + i) % 10;
      bytes.push_back(uint8_t(label));
      for (int c = 0; c < 3; ++c)
        for (int p = 0; p < 1024; ++p) bytes.push_back(image.pixels[size_t(p * 3 + c)]);
      expected.push_back(image);
      expected_labels.push_back(label);
    }
    write_bytes(scratch / "cifar" / ("data_batch_" + std::to_string(file + 1) + ".bin"), bytes);
  }
  std::ofstream(scratch / "cifar" / "batches.meta.txt") << "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";
  ConvertOptions options;
  options.out = scratch / "set";
  options.shards = 2;
  Manifest manifest = convert("cifar10", {scratch / "cifar"}, options);
  BOOST_TEST(manifest.count == 14);
  BOOST_TEST(manifest.class_names.size() == 10u);
  BOOST_TEST(manifest.class_names[9] == "truck");
  Contents contents = read_back(options.out);
  for (size_t i = 0; i < expected.size(); ++i) {
    std::vector<uint8_t> got(contents.pixels.begin() + long(i * 3072), contents.pixels.begin() + long((i + 1) * 3072));
    BOOST_TEST(got == expected[i].pixels, boost::test_tools::per_element());
    BOOST_TEST(contents.labels[i] == expected_labels[i]);
  }
}

BOOST_AUTO_TEST_CASE(npz_stored_and_deflated_with_one_based_labels) {
  ScratchDir scratch("npz");
  const int64_t n = 23, r = 8;
  std::string script = source_dir() + "/tests/datasets/make_npz_fixture.py";
  BOOST_REQUIRE(run_shell("/usr/bin/python3 " + script + " " + (scratch / "a.npz").string() + " 13 8 stored int64") == 0);
  BOOST_REQUIRE(run_shell("/usr/bin/python3 " + script + " " + (scratch / "b.npz").string() + " 10 8 compressed int32") == 0);
  ConvertOptions options;
  options.out = scratch / "set";
  options.shards = 2;
  Manifest manifest = convert("npz", {scratch / "a.npz", scratch / "b.npz"}, options);
  BOOST_TEST(manifest.count == n);
  Contents contents = read_back(options.out);
  int64_t plane = r * r, row = 3 * plane;
  bool pixels_equal = true;
  for (int64_t i = 0; i < n; ++i) {
    int64_t in_file = i < 13 ? i : i - 13;
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t p = 0; p < plane; ++p) {
        auto source = uint8_t((in_file * row + c * plane + p) * 7 % 251);
        pixels_equal &= contents.pixels[size_t(i * row + p * 3 + c)] == source;
      }
    BOOST_TEST(contents.labels[size_t(i)] == in_file % 10);
  }
  BOOST_TEST(pixels_equal);
}

BOOST_AUTO_TEST_CASE(image_folder_png_gray_rgba_and_jpeg_cmyk) {
  ScratchDir scratch("folder");
  const int64_t r = 16;
  std::filesystem::create_directories(scratch / "src" / "cats");
  std::filesystem::create_directories(scratch / "src" / "dogs");
  Image rgb = make_image(r, r, 3, 1), gray = make_image(r, r, 1, 2), rgba = make_image(r, r, 4, 3);
  write_png(scratch / "src" / "cats" / "a.png", rgb);
  write_png(scratch / "src" / "cats" / "b.png", gray);
  write_png(scratch / "src" / "dogs" / "c.PNG", rgba);
  Image smooth = make_smooth_image(r, r, 4);
  write_jpeg(scratch / "src" / "dogs" / "d.jpg", smooth, 100);
  // CMYK stored inverted (Adobe) with K = 255: decodes to the C, M, Y planes.
  Image cmyk{r, r, 4, std::vector<uint8_t>(size_t(r * r * 4))};
  for (int64_t p = 0; p < r * r; ++p) {
    for (int64_t c = 0; c < 3; ++c) cmyk.pixels[size_t(p * 4 + c)] = smooth.pixels[size_t(p * 3 + c)];
    cmyk.pixels[size_t(p * 4 + 3)] = 255;
  }
  write_jpeg(scratch / "src" / "dogs" / "e.jpeg", cmyk, 100);

  ConvertOptions options;
  options.out = scratch / "set";
  options.resolution = r;
  Manifest manifest = convert("imagefolder", {scratch / "src"}, options);
  BOOST_TEST(manifest.count == 5);
  BOOST_TEST(manifest.class_names == std::vector<std::string>({"cats", "dogs"}), boost::test_tools::per_element());
  Contents contents = read_back(options.out);
  auto image_at = [&](int64_t i) {
    return std::vector<uint8_t>(contents.pixels.begin() + i * r * r * 3, contents.pixels.begin() + (i + 1) * r * r * 3);
  };
  BOOST_TEST(image_at(0) == rgb.pixels, boost::test_tools::per_element());
  std::vector<uint8_t> gray_as_rgb, rgba_as_rgb;
  for (int64_t p = 0; p < r * r; ++p) {
    for (int c = 0; c < 3; ++c) gray_as_rgb.push_back(gray.pixels[size_t(p)]);
    for (int c = 0; c < 3; ++c) rgba_as_rgb.push_back(rgba.pixels[size_t(p * 4 + c)]);
  }
  BOOST_TEST(image_at(1) == gray_as_rgb, boost::test_tools::per_element());
  BOOST_TEST(image_at(2) == rgba_as_rgb, boost::test_tools::per_element());
  for (int64_t i : {3, 4}) {
    std::vector<uint8_t> got = image_at(i);
    int worst = 0;
    for (size_t k = 0; k < got.size(); ++k) worst = std::max(worst, std::abs(int(got[k]) - int(smooth.pixels[k])));
    BOOST_TEST_INFO("JPEG image " << i);
    BOOST_TEST(worst <= 6);  // quality 100, no chroma subsampling
  }
  BOOST_TEST(contents.labels == std::vector<int64_t>({0, 0, 1, 1, 1}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(gray_target_keeps_gray_pixels) {
  ScratchDir scratch("gray");
  std::filesystem::create_directories(scratch / "src" / "only");
  Image gray = make_image(8, 8, 1, 9);
  write_png(scratch / "src" / "only" / "g.png", gray);
  ConvertOptions options;
  options.out = scratch / "set";
  options.resolution = 8;
  options.channels = 1;
  convert("imagefolder", {scratch / "src"}, options);
  BOOST_TEST(read_back(options.out).pixels == gray.pixels, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace ft::datasets
