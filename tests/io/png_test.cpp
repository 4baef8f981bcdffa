#include <png.h>

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>

#include <cmath>
#include <filesystem>
#include <limits>

#include "framework/core/check.h"
#include "framework/io/image_grid.h"
#include "framework/io/png_writer.h"
#include "tests/support/scratch_dir.h"

using namespace ft;
using namespace ft::io;

namespace {

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Decoded {
  std::vector<uint8_t> pixels;
  int height = 0, width = 0, channels = 0;
};

// Decodes with libpng's simplified API, in the file's own channel count.
Decoded decode_png(const std::vector<uint8_t>& bytes) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  BOOST_REQUIRE(png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()) != 0);
  const bool color = (image.format & PNG_FORMAT_FLAG_COLOR) != 0;
  BOOST_REQUIRE((image.format & PNG_FORMAT_FLAG_ALPHA) == 0);
  image.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  Decoded out{std::vector<uint8_t>(PNG_IMAGE_SIZE(image)), int(image.height), int(image.width),
              color ? 3 : 1};
  BOOST_REQUIRE(png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr) != 0);
  return out;
}

std::vector<uint8_t> pattern(int height, int width, int channels) {
  std::vector<uint8_t> pixels(size_t(height * width * channels));
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = uint8_t((i * 37 + i / 7) % 256);
  return pixels;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(png)

BOOST_AUTO_TEST_CASE(encode_decode_round_trip) {
  for (int channels : {1, 3}) {
    const int height = 13, width = 29;
    const std::vector<uint8_t> pixels = pattern(height, width, channels);
    const std::vector<uint8_t> png = encode_png(pixels.data(), height, width, channels);
    BOOST_REQUIRE(png.size() > 8);
    BOOST_TEST(png_sig_cmp(png.data(), 0, 8) == 0);
    const Decoded d = decode_png(png);
    BOOST_TEST(d.height == height);
    BOOST_TEST(d.width == width);
    BOOST_TEST(d.channels == channels);
    BOOST_TEST(d.pixels == pixels, boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_CASE(bad_arguments_throw) {
  const std::vector<uint8_t> pixels(64, 0);
  BOOST_CHECK_THROW(encode_png(pixels.data(), 4, 4, 2), ft::Error);
  BOOST_CHECK_THROW(encode_png(pixels.data(), 0, 4, 1), ft::Error);
  BOOST_CHECK_THROW(encode_png(nullptr, 4, 4, 1), ft::Error);
}

BOOST_AUTO_TEST_CASE(libpng_errors_become_ft_error) {
  // Wider than libpng's default user limit (1,000,000): libpng's own png_error path.
  const std::vector<uint8_t> pixels(1'000'001, 0);
  BOOST_CHECK_EXCEPTION(encode_png(pixels.data(), 1, 1'000'001, 1), ft::Error,
                        [](const ft::Error& e) {
                          return std::string(e.what()).find("PNG encoding") != std::string::npos;
                        });
}

BOOST_AUTO_TEST_CASE(write_file_atomically) {
  ft::testing::ScratchDir dir("io");
  const std::vector<uint8_t> pixels = pattern(5, 7, 3);
  const std::string path = dir.str("sample.png");
  write_png_file(path, pixels.data(), 5, 7, 3);
  BOOST_TEST(decode_png(read_bytes(path)).pixels == pixels,
             boost::test_tools::per_element());
  // Only the final name remains: the temporary was renamed.
  BOOST_TEST(std::distance(std::filesystem::directory_iterator(dir.path()),
                           std::filesystem::directory_iterator()) == 1);
  const std::string missing = dir.str("no/such/dir/x.png");
  BOOST_CHECK_EXCEPTION(write_png_file(missing, pixels.data(), 5, 7, 3), ft::Error,
                        [&](const ft::Error& e) {
                          return std::string(e.what()).find(missing) != std::string::npos;
                        });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(image_grid)

// Image i, channel c, pixel (y, x) holds a distinct value in [-1, 1].
// Distinct values inside [-1, 1]; mapped to (25.5 + 153 k) / 400 + an integer, they
// stay at least 1/800 away from a rounding tie, so f32 and f64 round alike.
double tile_value(int i, int c, int y, int x) {
  return -1.0 + 0.0005 + 0.003 * (i * 60 + c * 20 + y * 4 + x);
}

BOOST_AUTO_TEST_CASE(tiles_and_padding) {
  const int n = 5, c = 3, h = 2, w = 3, columns = 3, padding = 2;
  std::vector<double> values;
  for (int i = 0; i < n; ++i)
    for (int ch = 0; ch < c; ++ch)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) values.push_back(tile_value(i, ch, y, x));
  for (DType dtype : {DType::f32, DType::f64}) {
    const Tensor images = Tensor::from_vector(values, {n, c, h, w}).to(dtype);
    const ImageGrid g = make_image_grid(images, columns, -1.0, 1.0, padding);
    BOOST_TEST(g.channels == 3);
    BOOST_TEST(g.height == 2 * h + padding);              // 2 rows, padding only between
    BOOST_TEST(g.width == columns * w + 2 * padding);
    std::vector<uint8_t> expected(g.pixels.size(), 0);    // padding and the empty cell: black
    for (int i = 0; i < n; ++i)
      for (int ch = 0; ch < c; ++ch)
        for (int y = 0; y < h; ++y)
          for (int x = 0; x < w; ++x) {
            const int gy = (i / columns) * (h + padding) + y;
            const int gx = (i % columns) * (w + padding) + x;
            const double v = (tile_value(i, ch, y, x) + 1.0) * 127.5;
            expected[size_t((gy * g.width + gx) * c + ch)] = uint8_t(std::lround(v));
          }
    BOOST_TEST(g.pixels == expected, boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_CASE(mapping_rounds_and_clamps) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  // Range [0, 2]: value v maps to v * 127.5.
  const std::vector<double> in = {0.0,  2.0, 1.0, 10.4 / 127.5, 10.6 / 127.5,
                                  -0.5, 3.0, nan, inf,          -inf};
  const std::vector<uint8_t> want = {0, 255, 128, 10, 11, 0, 255, 0, 255, 0};
  const Tensor images = Tensor::from_vector(in, {1, 1, 1, int64_t(in.size())});
  const ImageGrid g = make_image_grid(images, 1, 0.0, 2.0);
  BOOST_TEST(g.height == 1);
  BOOST_TEST(g.width == int(in.size()));
  BOOST_TEST(g.channels == 1);
  BOOST_TEST(g.pixels == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(single_row_and_grayscale_png) {
  // 3 images in 4 columns: one row, the fourth cell black; the grid encodes as PNG.
  const Tensor images = Tensor::ones({3, 1, 4, 4});
  const ImageGrid g = make_image_grid(images, 4, 0.0, 1.0, 1);
  BOOST_TEST(g.height == 4);
  BOOST_TEST(g.width == 4 * 4 + 3);
  BOOST_TEST(int(g.pixels[size_t(0 * g.width + 3)]) == 255);   // tile 0, last column
  BOOST_TEST(int(g.pixels[size_t(0 * g.width + 4)]) == 0);     // padding
  BOOST_TEST(int(g.pixels[size_t(3 * g.width + 15)]) == 0);    // empty fourth cell
  const Decoded d = decode_png(encode_png(g.pixels.data(), g.height, g.width, g.channels));
  BOOST_TEST(d.pixels == g.pixels, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(bad_input_throws) {
  BOOST_CHECK_THROW(make_image_grid(Tensor::ones({2, 2, 4, 4}), 2, 0.0, 1.0), ft::Error);
  BOOST_CHECK_THROW(make_image_grid(Tensor::ones({2, 1, 4}), 2, 0.0, 1.0), ft::Error);
  BOOST_CHECK_THROW(make_image_grid(Tensor::ones({2, 1, 4, 4}), 0, 0.0, 1.0), ft::Error);
  BOOST_CHECK_THROW(make_image_grid(Tensor::ones({2, 1, 4, 4}), 2, 1.0, 1.0), ft::Error);
  const Tensor integers = Tensor::ones({2, 1, 4, 4}, DType::i32);
  BOOST_CHECK_THROW(make_image_grid(integers, 2, 0.0, 1.0), ft::Error);
}

BOOST_AUTO_TEST_SUITE_END()
