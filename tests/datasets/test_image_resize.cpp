// Center crop and area resize, channel conversion.
#include <boost/test/unit_test.hpp>

#include "datasets/image_resize.h"
#include "tests/datasets/test_support.h"

namespace ft::datasets {
using namespace testing;

BOOST_AUTO_TEST_SUITE(image_resize)

BOOST_AUTO_TEST_CASE(halving_averages_two_by_two_blocks) {
  Image image = make_image(8, 8, 3, 5);
  Image half = center_crop_area_resize(image, 4);
  BOOST_REQUIRE_EQUAL(half.pixels.size(), 4u * 4u * 3u);
  for (int64_t y = 0; y < 4; ++y)
    for (int64_t x = 0; x < 4; ++x)
      for (int64_t c = 0; c < 3; ++c) {
        int sum = 0;
        for (int64_t dy = 0; dy < 2; ++dy)
          for (int64_t dx = 0; dx < 2; ++dx) sum += image.pixels[size_t(((2 * y + dy) * 8 + 2 * x + dx) * 3 + c)];
        int expected = int(std::lround(sum / 4.0));
        BOOST_TEST(std::abs(int(half.pixels[size_t((y * 4 + x) * 3 + c)]) - expected) <= 0);
      }
}

BOOST_AUTO_TEST_CASE(crops_the_centered_square_of_a_wide_image) {
  // 4 rows x 8 columns: the crop is columns 2..5.
  Image wide = make_image(4, 8, 1, 6);
  Image out = center_crop_area_resize(wide, 4);
  for (int64_t y = 0; y < 4; ++y)
    for (int64_t x = 0; x < 4; ++x) BOOST_TEST(out.pixels[size_t(y * 4 + x)] == wide.pixels[size_t(y * 8 + x + 2)]);
}

BOOST_AUTO_TEST_CASE(a_constant_image_stays_constant_at_any_ratio) {
  Image flat{7, 11, 3, std::vector<uint8_t>(7 * 11 * 3, 77)};
  for (int64_t r : {3, 5, 7, 10}) {
    Image out = center_crop_area_resize(flat, r);
    for (uint8_t value : out.pixels) BOOST_TEST(value == 77);
  }
}

BOOST_AUTO_TEST_CASE(channel_conversions) {
  Image rgba{1, 2, 4, {10, 20, 30, 0, 200, 100, 50, 255}};
  Image rgb = convert_channels(rgba, 3);
  BOOST_TEST(rgb.pixels == std::vector<uint8_t>({10, 20, 30, 200, 100, 50}), boost::test_tools::per_element());
  Image gray = convert_channels(rgb, 1);
  BOOST_TEST(int(gray.pixels[0]) == (299 * 10 + 587 * 20 + 114 * 30 + 500) / 1000);
  Image back = convert_channels(Image{1, 1, 1, {123}}, 3);
  BOOST_TEST(back.pixels == std::vector<uint8_t>({123, 123, 123}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace ft::datasets
