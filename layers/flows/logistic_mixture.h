// The elementwise map of Flow++'s coupling (Ho et al. 2019, eq. 7; aravindsrinivas/flowpp
// MixLogisticCDF -> Inverse(Sigmoid) -> ElemwiseAffine):
//     y = exp(a) * logit(F(x)) + b,   F(x) = sum_k pi_k sigmoid((x - mu_k) exp(-s_k)),
// with pi = softmax(logits) over K components and s clamped below at -7 (as the
// reference). log F, log(1 - F) and log F' are log-sum-exps over the components of
// log pi_k + log_sigmoid(+-z_k) (+ log_sigmoid(-z_k) - s_k), in the input's dtype, so
// logit(F) = log F - log(1 - F) stays finite deep in both tails, where 1 - F rounds to 0:
//     log|dy/dx| = a + log F'(x) - log F(x) - log(1 - F(x)).
// The inverse solves logit(F(x)) = (y - b) exp(-a) by bisection in f64, vectorised over
// all elements. The bracket is exact: each component's own root mu_k + exp(s_k) w
// brackets the mixture's (F is a convex combination of the components' CDFs), so no
// search for bounds is needed. Bisection stops when every bracket is narrower than
// tolerance * (1 + |x|), or after max_iterations halvings; the solution returned is
// the bracket's midpoint. Each halving is a few tensor ops over all elements and one
// host read of the widest bracket (the stopping test). The inverse's log-determinant
// is minus the forward one at that solution; the solution itself carries no gradient
// (sampling does not need one).
#pragma once
#include "framework/core/tensor.h"
#include "layers/flows/rational_quadratic.h"  // ElementwiseResult

namespace ft::layers::flows {

inline constexpr double kLogisticMixtureMinLogScale = -7.0;

// Per element of x, K components on the last dim: [..., K] where x is [...].
struct LogisticMixture {
  Tensor logits;      // unnormalised log weights
  Tensor means;       // mu
  Tensor log_scales;  // s, clamped below at kLogisticMixtureMinLogScale
};

struct LogisticMixtureLogs {
  Tensor log_cdf;       // log F(x)
  Tensor log_survival;  // log(1 - F(x))
  Tensor log_pdf;       // log F'(x)
};

LogisticMixtureLogs logistic_mixture_logs(const Tensor& x, const LogisticMixture& mixture);

// The coupling's parameters per transformed element: a (log scale), b (shift), x's shape.
struct LogisticMixtureCoupling {
  Tensor log_scale, shift;
  LogisticMixture mixture;
};

struct BisectionOptions {
  double tolerance = 1e-12;  // relative: |bracket| <= tolerance * (1 + |x|)
  int max_iterations = 100;  // enough to go from a bracket of 1e17 to 1e-12 (f64 stops halving earlier)
};

// y and the per-element log|dy/dx| (forward), or x and log|dx/dy| (inverse).
ElementwiseResult logistic_mixture_coupling(const Tensor& input, const LogisticMixtureCoupling& parameters,
                                            bool inverse, BisectionOptions bisection = {});

// The x with logit(F(x)) = target, by the bisection above; f64, target's shape, no gradient.
Tensor logistic_mixture_inverse_logit_cdf(const Tensor& target, const LogisticMixture& mixture,
                                          BisectionOptions bisection = {});

}  // namespace ft::layers::flows
