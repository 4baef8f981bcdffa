#include "layers/flows/logistic_mixture.h"

#include "framework/autograd/grad_mode.h"
#include "framework/kernels/kernels.h"
#include "framework/ops/ops.h"

namespace ft::layers::flows {

namespace {

// max(t, floor) with the gradient of t above the floor; relu keeps the backward a
// device kernel (max's backward scatters on the host).
Tensor clamp_below(const Tensor& t, double floor) { return add(relu(add(t, -floor)), floor); }

// log sum_k exp(v_k) over the last dim, shifted by the (constant) maximum.
Tensor logsumexp_last(const Tensor& v) {
  int64_t last = v.dim() - 1;
  Tensor shift = max(v.detach(), last, true);
  return add(shift, log(sum(exp(sub(v, shift)), {last}, true))).squeeze(last);
}

void check_mixture(const Tensor& x, const LogisticMixture& mixture) {
  const Shape& k_shape = mixture.logits.shape();
  FT_CHECK(k_shape.size() == x.shape().size() + 1 && Shape(k_shape.begin(), k_shape.end() - 1) == x.shape() &&
               mixture.means.shape() == k_shape && mixture.log_scales.shape() == k_shape,
           "a logistic mixture over {} needs logits, means and log scales of [..., K] on that shape, got {}, {}, {}",
           shape_str(x.shape()), shape_str(mixture.logits.shape()), shape_str(mixture.means.shape()),
           shape_str(mixture.log_scales.shape()));
}

// What the components contribute whatever x is (computed once for all bisection steps).
struct PreparedMixture {
  Tensor log_weights;     // log pi_k
  Tensor means;           // mu_k
  Tensor log_scales;      // s_k after the clamp
  Tensor inverse_scales;  // exp(-s_k)
};

PreparedMixture prepare(const LogisticMixture& mixture) {
  Tensor log_scales = clamp_below(mixture.log_scales, kLogisticMixtureMinLogScale);
  return {log_softmax(mixture.logits, mixture.logits.dim() - 1), mixture.means, log_scales, exp(neg(log_scales))};
}

// z_k = (x - mu_k) exp(-s_k), [..., K].
Tensor standardized(const Tensor& x, const PreparedMixture& m) {
  return mul(sub(x.unsqueeze(x.dim()), m.means), m.inverse_scales);
}

// logit(F(x)) = log F - log(1 - F).
Tensor logit_cdf(const Tensor& x, const PreparedMixture& m) {
  Tensor z = standardized(x, m);
  return sub(logsumexp_last(add(m.log_weights, log_sigmoid(z))),
             logsumexp_last(add(m.log_weights, log_sigmoid(neg(z)))));
}

// 1 where d >= 0, else 0 (f64): the index of the maximum of (d, 0), ties to the first.
// The framework has no comparison kernel; max's index is one on every device.
Tensor is_nonnegative(const Tensor& d) {
  int64_t last = d.dim();
  Tensor pair = concat({d.unsqueeze(last), Tensor::zeros_like(d).unsqueeze(last)}, last);
  Tensor index;
  kernels::max(pair, last, false, &index);
  return add(neg(index.to(DType::f64)), 1.0);
}

// max_i |hi_i - lo_i| / (1 + |mid_i|): the convergence measure of the bisection.
double widest_relative_bracket(const Tensor& lo, const Tensor& hi, const Tensor& mid) {
  Tensor relative = div(sub(hi, lo), add(abs(mid), 1.0));
  return max(relative.reshape({-1}), 0).item();
}

LogisticMixture detached_f64(const LogisticMixture& m) {
  return {m.logits.detach().to(DType::f64), m.means.detach().to(DType::f64), m.log_scales.detach().to(DType::f64)};
}

ElementwiseResult forward_map(const Tensor& x, const LogisticMixtureCoupling& p) {
  LogisticMixtureLogs logs = logistic_mixture_logs(x, p.mixture);
  Tensor y = add(mul(exp(p.log_scale), sub(logs.log_cdf, logs.log_survival)), p.shift);
  Tensor logabsdet = sub(add(p.log_scale, logs.log_pdf), add(logs.log_cdf, logs.log_survival));
  return {y, logabsdet};
}

}  // namespace

LogisticMixtureLogs logistic_mixture_logs(const Tensor& x, const LogisticMixture& mixture) {
  check_mixture(x, mixture);
  PreparedMixture m = prepare(mixture);
  Tensor z = standardized(x, m);
  Tensor log_below = log_sigmoid(z), log_above = log_sigmoid(neg(z));
  // The logistic density is sigmoid(z) sigmoid(-z) / scale.
  Tensor log_density = sub(add(log_below, log_above), m.log_scales);
  return {logsumexp_last(add(m.log_weights, log_below)), logsumexp_last(add(m.log_weights, log_above)),
          logsumexp_last(add(m.log_weights, log_density))};
}

Tensor logistic_mixture_inverse_logit_cdf(const Tensor& target, const LogisticMixture& mixture,
                                          BisectionOptions bisection) {
  FT_CHECK(bisection.tolerance > 0.0 && bisection.max_iterations > 0,
           "bisection needs a positive tolerance and iteration cap, got {} and {}", bisection.tolerance,
           bisection.max_iterations);
  NoGradGuard no_grad;
  Tensor w = target.detach().to(DType::f64);
  check_mixture(w, mixture);
  PreparedMixture m = prepare(detached_f64(mixture));
  if (w.numel() == 0) return w;
  int64_t last = w.dim();
  // Component k alone solves z_k = w at mu_k + exp(s_k) w; F(x) >= sigmoid(w) once x is
  // past every component's root, and <= before all of them.
  Tensor roots = add(m.means, div(w.unsqueeze(last), m.inverse_scales));
  Tensor hi = max(roots, last), lo = neg(max(neg(roots), last));
  Tensor mid = mul(add(lo, hi), 0.5);
  for (int i = 0; i < bisection.max_iterations; ++i) {
    if (widest_relative_bracket(lo, hi, mid) <= bisection.tolerance) break;
    Tensor above = is_nonnegative(sub(logit_cdf(mid, m), w));
    hi = add(hi, mul(above, sub(mid, hi)));
    lo = add(lo, mul(add(neg(above), 1.0), sub(mid, lo)));
    mid = mul(add(lo, hi), 0.5);
  }
  return mid;
}

ElementwiseResult logistic_mixture_coupling(const Tensor& input, const LogisticMixtureCoupling& parameters,
                                            bool inverse, BisectionOptions bisection) {
  FT_CHECK(parameters.log_scale.shape() == input.shape() && parameters.shift.shape() == input.shape(),
           "the logistic mixture coupling of an input {} got a log scale {} and a shift {}",
           shape_str(input.shape()), shape_str(parameters.log_scale.shape()), shape_str(parameters.shift.shape()));
  if (!inverse) return forward_map(input, parameters);
  Tensor target;
  {
    NoGradGuard no_grad;
    target = mul(sub(input.detach().to(DType::f64), parameters.shift.detach().to(DType::f64)),
                 exp(neg(parameters.log_scale.detach().to(DType::f64))));
  }
  Tensor x = logistic_mixture_inverse_logit_cdf(target, parameters.mixture, bisection).to(input.dtype());
  return {x, neg(forward_map(x, parameters).logabsdet)};
}

}  // namespace ft::layers::flows
