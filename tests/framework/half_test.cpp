// bf16 and f16 conversions round to nearest, ties to even; checked against a
// reference that searches the representable neighbours in double.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "framework/core/half.h"
#include "framework/random/generator.h"
#include "framework/random/philox.h"

using namespace ft;

namespace {

// Nearest value in a sorted table of finite representables (ties to even bits).
uint16_t reference_round(float x, const std::vector<std::pair<double, uint16_t>>& table, double overflow) {
  if (std::abs(double(x)) >= overflow) return uint16_t((x < 0 ? 0x8000 : 0) | 0x7c00);  // f16 infinity
  auto it = std::lower_bound(table.begin(), table.end(), std::make_pair(double(x), uint16_t(0)));
  auto best = it == table.end() ? table.end() - 1 : it;
  if (it != table.begin()) {
    auto below = it - 1;
    double d_below = double(x) - below->first;
    double d_best = best->first - double(x);
    if (it == table.end() || d_below < d_best || (d_below == d_best && (below->second & 1) == 0)) best = below;
  }
  if (best->first == 0.0 && x < 0) return 0x8000;  // negative values that round to zero keep their sign
  return best->second;
}

template <class ToFloat>
std::vector<std::pair<double, uint16_t>> finite_table(ToFloat to_float) {
  std::vector<std::pair<double, uint16_t>> table;
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    float f = to_float(uint16_t(bits));
    if (std::isfinite(f) && !(f == 0.0f && (bits & 0x8000))) table.emplace_back(double(f), uint16_t(bits));
  }
  std::sort(table.begin(), table.end());
  return table;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(half_precision)

BOOST_AUTO_TEST_CASE(ties_go_to_even) {
  BOOST_TEST(bf16(1.0f + 0x1p-8f).bits == bf16(1.0f).bits);                 // halfway, even below
  BOOST_TEST(bf16(1.0f + 3 * 0x1p-8f).bits == bf16(1.0f + 0x1p-6f).bits);    // halfway, even above
  BOOST_TEST(f16(1.0f + 0x1p-11f).bits == 0x3c00);
  BOOST_TEST(f16(1.0f + 3 * 0x1p-11f).bits == 0x3c02);
  BOOST_TEST(f16(65520.0f).bits == 0x7c00);  // rounds past the largest finite: inf
  BOOST_TEST(f16(65519.0f).bits == 0x7bff);
  BOOST_TEST(f16(0x1p-25f).bits == 0x0000);      // half the smallest subnormal: ties to even zero
  BOOST_TEST(f16(0x1.8p-24f).bits == 0x0002);    // 1.5 units: to even (2)
  BOOST_TEST(std::isnan(float(bf16(std::numeric_limits<float>::quiet_NaN()))));
  BOOST_TEST(std::isnan(float(f16(std::numeric_limits<float>::quiet_NaN()))));
}

BOOST_AUTO_TEST_CASE(every_half_value_round_trips) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    f16 h;
    h.bits = uint16_t(bits);
    float f = float(h);
    if (std::isnan(f)) continue;
    BOOST_TEST_REQUIRE(f16(f).bits == h.bits, "f16 bits " << bits);
    bf16 b;
    b.bits = uint16_t(bits);
    float g = float(b);
    if (std::isnan(g)) continue;
    BOOST_TEST_REQUIRE(bf16(g).bits == b.bits, "bf16 bits " << bits);
  }
}

BOOST_AUTO_TEST_CASE(random_floats_round_to_nearest) {
  auto f16_table = finite_table([](uint16_t b) { return f16::to_float(b); });
  auto bf16_table = finite_table([](uint16_t b) {
    bf16 h;
    h.bits = b;
    return float(h);
  });
  Generator gen(3, 0);
  for (int i = 0; i < 200000; ++i) {
    uint32_t u = gen.next_u32();
    float x;
    // Mix of magnitudes across f16's subnormal, normal and overflow ranges.
    float magnitude = float(std::ldexp(philox_unit(u), int(gen.next_below(50)) - 30));
    x = (u & 1) ? -magnitude : magnitude;
    BOOST_TEST_REQUIRE(f16(x).bits == reference_round(x, f16_table, 65520.0), "f16 of " << x);
    float y = std::ldexp(float(philox_unit(gen.next_u32())), int(gen.next_below(200)) - 100);
    BOOST_TEST_REQUIRE(bf16(y).bits == reference_round(y, bf16_table, 1e300), "bf16 of " << y);
  }
}

BOOST_AUTO_TEST_SUITE_END()
