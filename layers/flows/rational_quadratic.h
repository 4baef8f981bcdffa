// The monotone rational-quadratic spline of Durkan et al. 2019 (nflows'
// unconstrained_rational_quadratic_spline, linear tails): K bins on [-B, B] whose
// widths and heights are softmaxes (each at least 1e-3 of the interval) and whose
// inner knot derivatives are 1e-3 + softplus; the boundary derivatives are 1, so
// outside [-B, B] the map is the identity. Inputs outside are replaced by 0 inside
// the spline math (their branch is discarded, and gives no NaN or infinity to
// poison gradients). The inverse is the closed-form root of the bin's quadratic.
// The bin search runs on the host (the framework has no comparison kernel).
#pragma once
#include "framework/core/tensor.h"

namespace ft::layers::flows {

struct ElementwiseResult {
  Tensor y;
  Tensor logabsdet;  // per element, x's shape
};

// x [...]; params [..., 3K - 1] = [widths (K), heights (K), inner derivatives (K - 1)].
ElementwiseResult rational_quadratic_spline(const Tensor& x, const Tensor& params, int64_t bins, double tail_bound,
                                            bool inverse);

}  // namespace ft::layers::flows
