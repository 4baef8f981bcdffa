// The float exp and erfc of kernels/cpu/fast_math.h against double-precision std::
// functions over dense grids, at the accuracy its header states, and GELU's forward
// and backward (functors.h through CpuMath) against the same formulas in double.
// The vector loops run these very functions (vector_loops_test checks they agree
// bit for bit across instruction sets), so this is the accuracy of every float GELU.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "framework/kernels/cpu/fast_math.h"

using namespace ft;
namespace fast = ft::kernels::fast;

namespace {

constexpr float kSmallestNormal = std::numeric_limits<float>::min();

// The largest |got - want| / |want| over x in [lo, hi] by step, where want is a
// normal float; reports where it happens.
template <class Got, class Want>
double worst_relative_error(float lo, float hi, float step, Got got, Want want, float* where) {
  double worst = 0;
  for (float x = lo; x <= hi; x += step) {
    const double w = want(double(x));
    if (!(std::abs(w) >= kSmallestNormal) || std::abs(w) > std::numeric_limits<float>::max()) continue;
    const double e = std::abs(double(got(x)) - w) / std::abs(w);
    if (e > worst) worst = e, *where = x;
  }
  return worst;
}

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
double normal_pdf(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI); }
double gelu_exact(double x) { return x * normal_cdf(x); }

}  // namespace

BOOST_AUTO_TEST_SUITE(fast_math)

BOOST_AUTO_TEST_CASE(exp_is_within_one_ulp_on_its_normal_range) {
  float where = 0;
  const double worst = worst_relative_error(
      -87.0f, 88.5f, 1.3e-3f, [](float x) { return fast::exp(x); }, [](double x) { return std::exp(x); }, &where);
  BOOST_TEST_MESSAGE("exp: worst relative error " << worst << " at " << where);
  BOOST_TEST(worst < 1.2e-7, "exp relative error " << worst << " at x = " << where);
}

BOOST_AUTO_TEST_CASE(exp_handles_the_edges) {
  BOOST_TEST(fast::exp(0.0f) == 1.0f);
  BOOST_TEST(fast::exp(-200.0f) == 0.0f);
  BOOST_TEST(std::isinf(fast::exp(100.0f)));
  BOOST_TEST(std::isinf(fast::exp(std::numeric_limits<float>::infinity())));
  BOOST_TEST(fast::exp(-std::numeric_limits<float>::infinity()) == 0.0f);
  BOOST_TEST(std::isnan(fast::exp(std::numeric_limits<float>::quiet_NaN())));
  // A subnormal result: e^-100 = 3.72e-44, within a subnormal float's spacing (1.4e-45).
  BOOST_TEST(std::abs(double(fast::exp(-100.0f)) - std::exp(-100.0)) <= 1.5e-45);
}

BOOST_AUTO_TEST_CASE(exp_of_sum_keeps_the_relative_accuracy_of_a_large_exact_part) {
  // exp(-a^2) as erfc takes it: a^2 = hi^2 + small with hi^2 exact; rounding a^2 to
  // float first would cost up to a^2 * 6e-8 relative (4e-6 at a = 8).
  double worst = 0;
  for (float a = 0.5f; a <= 9.3f; a += 1.7e-4f) {
    const float hi = std::bit_cast<float>(std::bit_cast<uint32_t>(a) & 0xfffff000u);
    const double want = std::exp(-double(a) * double(a));
    const double got = fast::exp_of_sum(-hi * hi, (hi - a) * (hi + a));
    worst = std::max(worst, std::abs(got - want) / want);
  }
  BOOST_TEST(worst < 3e-7, "exp_of_sum relative error " << worst);
}

BOOST_AUTO_TEST_CASE(erfc_is_within_5e7_relative_wherever_the_result_is_normal) {
  float where = 0;
  const double worst = worst_relative_error(
      -6.0f, 10.0f, 3.1e-4f, [](float z) { return fast::erfc(z); }, [](double z) { return std::erfc(z); }, &where);
  BOOST_TEST_MESSAGE("erfc: worst relative error " << worst << " at " << where);
  BOOST_TEST(worst < 5e-7, "erfc relative error " << worst << " at z = " << where);
  // The Gaussian erfc hands out alongside (GELU's slope): exp(-z^2), relative.
  double gaussian_worst = 0;
  for (float z = -9.0f; z <= 9.0f; z += 3.7e-4f) {
    float gaussian = 0;
    fast::erfc_and_gaussian(z, &gaussian);
    const double want = std::exp(-double(z) * double(z));
    gaussian_worst = std::max(gaussian_worst, std::abs(gaussian - want) / want);
  }
  BOOST_TEST(gaussian_worst < 3e-7, "exp(-z^2) relative error " << gaussian_worst);
  float far = 1;
  fast::erfc_and_gaussian(12.0f, &far);
  BOOST_TEST(far == 0.0f);
  BOOST_TEST(fast::erfc(20.0f) == 0.0f);
  BOOST_TEST(fast::erfc(-20.0f) == 2.0f);
  BOOST_TEST(std::isnan(fast::erfc(std::numeric_limits<float>::quiet_NaN())));
}

BOOST_AUTO_TEST_CASE(gelu_forward_and_backward_match_double_precision) {
  using kernels::CpuMath;
  auto gelu = [](float x) { return unary_forward<UnaryOp::gelu, float, CpuMath>(x, 0.0f); };
  auto gelu_grad = [](float x) { return unary_backward<UnaryOp::gelu, float, CpuMath>(x, 0.0f, 1.0f, 0.0f); };
  // Relative in the negative tail too, where 0.5 * (1 + erf) would have cancelled. The
  // float argument z = -x/sqrt2 itself is rounded (6e-8), which erfc's slope turns into
  // x^2 * 6e-8 relative: the bound allows twice that on top of 1e-6.
  auto tolerance = [](float x) { return 1e-6 + 1.2e-7 * double(x) * double(x); };
  double forward = 0, backward = 0;
  for (float x = -13.0f; x <= 8.0f; x += 2.3e-4f) {
    const double w = gelu_exact(x);
    if (std::abs(w) >= kSmallestNormal)
      forward = std::max(forward, std::abs(double(gelu(x)) - w) / std::abs(w) / tolerance(x));
    // gelu'(x) = Phi(x) + x phi(x) cancels near x = -0.75: measured against the terms' size.
    const double terms = normal_cdf(x) + std::abs(x) * normal_pdf(x);
    const double d = normal_cdf(x) + x * normal_pdf(x);
    backward = std::max(backward, std::abs(double(gelu_grad(x)) - d) / terms / tolerance(x));
  }
  BOOST_TEST(forward < 1.0, "gelu error " << forward << " of its bound");
  BOOST_TEST(backward < 1.0, "gelu derivative error " << backward << " of its bound");
}

BOOST_AUTO_TEST_SUITE_END()
