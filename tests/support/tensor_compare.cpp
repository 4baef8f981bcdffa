#include "tests/support/tensor_compare.h"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

namespace ft::testing {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

std::string describe(const std::string& what, const Agreement& a, double tolerance) {
  if (!a.shapes_match) return what + ": the shapes differ";
  std::ostringstream out;
  out << what << ": error " << a.error << " x scale (allowed " << tolerance << "; scale " << a.scale << ", "
      << a.elements << " elements); worst at flat index " << a.worst_index << ": " << a.worst_actual << ", expected "
      << a.worst_expected;
  return out.str();
}

}  // namespace

Agreement compare(std::span<const double> actual, std::span<const double> expected) {
  Agreement a;
  a.elements = expected.size();
  if (actual.size() != expected.size()) {
    a.shapes_match = false;
    a.error = kInfinity;
    return a;
  }
  double worst_difference = -1.0;
  for (size_t i = 0; i < expected.size(); ++i) {
    a.scale = std::max(a.scale, std::abs(expected[i]));
    // NaN or infinity on either side: an infinite difference, and the element reported.
    const double difference = std::isfinite(actual[i]) && std::isfinite(expected[i])
                                  ? std::abs(actual[i] - expected[i])
                                  : kInfinity;
    if (difference > worst_difference) {
      worst_difference = difference;
      a.worst_index = i;
      a.worst_actual = actual[i];
      a.worst_expected = expected[i];
    }
  }
  a.error = worst_difference <= 0.0 ? 0.0 : worst_difference / std::max(a.scale, kTinyScale);
  return a;
}

Agreement compare(const Tensor& actual, const Tensor& expected) {
  if (actual.shape() != expected.shape()) {
    Agreement a;
    a.shapes_match = false;
    a.error = kInfinity;
    return a;
  }
  const std::vector<double> a = actual.to_double_vector(), e = expected.to_double_vector();
  return compare(std::span<const double>(a), std::span<const double>(e));
}

double check_close(const std::string& what, const Tensor& actual, const Tensor& expected, double tolerance) {
  const Agreement a = compare(actual, expected);
  BOOST_CHECK_MESSAGE(a.error <= tolerance,
                      (a.shapes_match ? describe(what, a, tolerance)
                                      : what + ": shape " + shape_str(actual.shape()) + ", expected " +
                                            shape_str(expected.shape())));
  return a.error;
}

double check_close(const std::string& what, std::span<const double> actual, std::span<const double> expected,
                   double tolerance) {
  const Agreement a = compare(actual, expected);
  BOOST_CHECK_MESSAGE(a.error <= tolerance, describe(what, a, tolerance));
  return a.error;
}

double max_abs_difference(const Tensor& a, const Tensor& b) {
  const std::vector<double> va = a.to_double_vector(), vb = b.to_double_vector();
  if (va.size() != vb.size()) return kInfinity;
  double worst = 0.0;
  for (size_t i = 0; i < va.size(); ++i) {
    const double difference = std::abs(va[i] - vb[i]);
    if (std::isnan(difference)) return kInfinity;  // std::max would drop it
    worst = std::max(worst, difference);
  }
  return worst;
}

double max_abs(const Tensor& a) {
  double m = 0.0;
  for (double v : a.to_double_vector()) {
    if (std::isnan(v)) return kInfinity;
    m = std::max(m, std::abs(v));
  }
  return m;
}

}  // namespace ft::testing
