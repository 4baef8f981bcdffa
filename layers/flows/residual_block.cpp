#include "layers/flows/residual_block.h"

#include <algorithm>
#include <cmath>

#include "framework/autograd/grad_mode.h"
#include "framework/core/check.h"
#include "framework/ops/ops.h"

namespace ft::layers::flows {

namespace {

double largest(const Tensor& t) { return max(t.reshape({-1}), 0).item(); }

// The standard normal distribution function, kept inside (0, 1).
double normal_cdf(double z) { return std::clamp(0.5 * std::erfc(-z / std::sqrt(2.0)), 1e-16, 1.0 - 1e-16); }

}  // namespace

void ResidualBlockOptions::validate(const std::string& who) const {
  FT_CHECK(terms >= 1, "{}: terms must be >= 1, got {}", who, terms);
  FT_CHECK(eval_exact_terms >= 0, "{}: eval_exact_terms must be >= 0, got {}", who, eval_exact_terms);
  FT_CHECK(inverse_tolerance > 0.0, "{}: inverse_tolerance must be > 0, got {}", who, inverse_tolerance);
  FT_CHECK(inverse_iterations >= 1, "{}: inverse_iterations must be >= 1, got {}", who, inverse_iterations);
  roulette.validate(who.c_str());
}

LogdetEstimator parse_logdet_estimator(const std::string& name, const std::string& key) {
  if (name == "exact") return LogdetEstimator::exact;
  if (name == "power_series") return LogdetEstimator::power_series;
  if (name == "roulette") return LogdetEstimator::roulette;
  FT_FAIL("{} is \"{}\"; expected exact, power_series or roulette", key, name);
}

SeriesLength parse_series_length(const std::string& name, const std::string& key) {
  if (name == "geometric") return SeriesLength::geometric;
  if (name == "poisson") return SeriesLength::poisson;
  FT_FAIL("{} is \"{}\"; expected geometric or poisson", key, name);
}

ResidualBlock::ResidualBlock(std::shared_ptr<LipschitzNetwork> net, ResidualBlockOptions options, std::string label)
    : net_(register_module("net", std::move(net))), options_(options), label_(std::move(label)) {
  options_.validate(label_);
}

Tensor ResidualBlock::draw_probes(const Tensor& x, std::vector<int64_t>* lengths) {
  int64_t n = x.size(0), d = x.numel() / n;
  // One row per example: d probe values, then the draw of its series length.
  std::vector<double> draws = normal_per_example(n, {d + 1}, gen_, DType::f32).to_double_vector();
  std::vector<double> probes(size_t(n * d));
  for (int64_t e = 0; e < n; ++e) {
    const double* row = draws.data() + e * (d + 1);
    for (int64_t i = 0; i < d; ++i)
      probes[size_t(e * d + i)] = options_.probe == TraceProbe::gaussian ? row[i] : (row[i] < 0.0 ? -1.0 : 1.0);
    if (lengths) lengths->push_back(roulette_length(options_.roulette, normal_cdf(row[d])));
  }
  return Tensor::from_vector(probes, x.shape()).to(x.dtype()).to(x.device());
}

Tensor ResidualBlock::logdet(const Tensor& g, const Tensor& x, bool create_graph) {
  last_lengths_.clear();
  if (options_.estimator == LogdetEstimator::exact) return exact_residual_logdet(g, x, create_graph);
  Tensor probes, weights;
  if (options_.estimator == LogdetEstimator::power_series) {
    probes = draw_probes(x, nullptr);
    weights = Tensor::ones({x.size(0), options_.terms}, x.dtype(), x.device());
  } else {
    probes = draw_probes(x, &last_lengths_);
    RouletteOptions roulette = options_.roulette;
    if (!training()) roulette.exact_terms = options_.eval_exact_terms;
    weights = roulette_weights(roulette, last_lengths_, x.dtype(), x.device());
  }
  if (create_graph && training() && options_.neumann_gradient) return neumann_logdet(g, x, probes, weights);
  return power_series_logdet(g, x, probes, weights, create_graph);
}

TransformResult ResidualBlock::forward(const Tensor& x, const Tensor& context) {
  FT_CHECK(x.dim() >= 2 && x.size(0) > 0, "{}: a residual block takes [N, ...] with N > 0, got {}", label_,
           shape_str(x.shape()));
  check_context(context, 0, x);
  // The log-determinant needs g's graph whatever the caller's grad mode; without
  // one, the results leave detached and the graph goes with them.
  bool outer = grad_enabled();
  GradModeGuard with_grad(true);
  Tensor input = x;
  if (!outer || !x.requires_grad()) {
    input = x.detach();
    input.set_requires_grad(true);
  }
  Tensor g = net_->forward(input);
  Tensor y = add(input, g), ld = logdet(g, input, outer);
  if (!outer) return {y.detach(), ld.detach()};
  return {y, ld};
}

Tensor ResidualBlock::fixed_point(const Tensor& y) {
  NoGradGuard no_grad;
  Tensor tolerance = mul(add(abs(y), 1.0), options_.inverse_tolerance);
  Tensor x = sub(y, net_->forward(y));
  double change = 0.0;
  for (int64_t i = 1; i <= options_.inverse_iterations; ++i) {
    Tensor next = sub(y, net_->forward(x));
    Tensor moved = abs(sub(next, x));
    change = largest(moved);
    FT_CHECK(std::isfinite(change), "{}: the inverse's fixed-point iteration diverged (non-finite values at iteration {})",
             label_, i);
    x = next;
    if (largest(sub(moved, tolerance)) <= 0.0) return x;
  }
  FT_FAIL("{}: the inverse did not converge: after {} fixed-point iterations an element still moved by {:.3g} "
          "(tolerance {:.3g} * (1 + |y|)); the block's Lipschitz bound is {:.4f}",
          label_, options_.inverse_iterations, change, options_.inverse_tolerance, net_->lipschitz_bound());
}

TransformResult ResidualBlock::inverse(const Tensor& y, const Tensor& context) {
  FT_CHECK(!(grad_enabled() && y.requires_grad()),
           "{}: a residual block's inverse carries no gradient (its fixed point is found without a graph)", label_);
  check_context(context, 0, y);
  Tensor x = fixed_point(y);
  NoGradGuard no_grad;
  return {x, neg(forward(x, Tensor()).logabsdet)};
}

}  // namespace ft::layers::flows
