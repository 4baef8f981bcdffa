// The tests' one way to say how close two tensors are. Every parity test (ours
// against PyTorch's golden values, a CUDA kernel against the CPU one, an analytic
// gradient against finite differences) uses this one metric, as ggml's
// tests/test-backend-ops.cpp holds every backend to one error measure (there,
// normalized mean squared error; here, the maximum error relative to the tensor's
// scale):
//
//     error(actual, expected) = max_i |actual_i - expected_i| / max(scale, kTinyScale),
//     scale = max_i |expected_i|
//
// so that each element is judged by the tensor's magnitude. A per-element ratio
// would blow up on elements near zero (sums that cancel, gradients in saturated
// tails), where the rounding of their larger neighbours, not the element itself,
// sets the error; and a float32 result carries an error of a few ulps of the
// tensor's largest values. A tolerance of 1e-5 thus means "agrees to about five
// significant digits of the largest value". An all-zero reference must be matched
// exactly (kTinyScale makes any difference enormous); a NaN or an infinity on
// either side, or a shape mismatch, is an infinite error.
#pragma once
#include <cstddef>
#include <span>
#include <string>

#include "framework/core/tensor.h"

namespace ft::testing {

inline constexpr double kTinyScale = 1e-30;

struct Agreement {
  double error = 0.0;  // the metric above
  double scale = 0.0;  // max |expected|
  size_t elements = 0;
  size_t worst_index = 0;  // flat index of the largest |actual - expected|
  double worst_actual = 0.0, worst_expected = 0.0;
  bool shapes_match = true;
};

Agreement compare(std::span<const double> actual, std::span<const double> expected);
Agreement compare(const Tensor& actual, const Tensor& expected);

// One Boost check that compare(actual, expected).error <= tolerance, naming `what`
// and the worst element when it fails; returns the error, for "worst seen" reports.
double check_close(const std::string& what, const Tensor& actual, const Tensor& expected, double tolerance);
double check_close(const std::string& what, std::span<const double> actual, std::span<const double> expected,
                   double tolerance);

// max_i |a_i - b_i|, for checks that want an absolute bound (exact equality,
// round trips of O(1) data); infinite when the sizes differ.
double max_abs_difference(const Tensor& a, const Tensor& b);
double max_abs(const Tensor& a);

}  // namespace ft::testing
