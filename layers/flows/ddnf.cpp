#include "layers/flows/ddnf.h"

#include "framework/autograd/grad_mode.h"
#include "framework/core/check.h"
#include "framework/ops/ops.h"
#include "layers/flows/residual_logdet.h"

namespace ft::layers::flows {

void DiffeomorphicOptions::validate(const std::string& who) const {
  FT_CHECK(steps >= 1, "{}: steps must be >= 1, got {}", who, steps);
  FT_CHECK(terms >= 1, "{}: terms must be >= 1, got {}", who, terms);
  FT_CHECK(geodesic_weight >= 0.0 && consistency_weight >= 0.0,
           "{}: regulariser weights must be >= 0, got geodesic {} and consistency {}", who, geodesic_weight,
           consistency_weight);
}

DiffeomorphicFlow::DiffeomorphicFlow(std::shared_ptr<LipschitzNetwork> velocity, DiffeomorphicOptions options,
                                     std::string label)
    : velocity_(register_module("velocity", std::move(velocity))), options_(options), label_(std::move(label)) {
  options_.validate(label_);
  // Each Euler step x + v(x) / T is invertible, and its Taylor series converges, when Lip(v) / T < 1.
  double limit = velocity_->lipschitz_limit();
  FT_CHECK(limit < double(options_.steps),
           "{}: the velocity field's Lipschitz bound can reach {} (its layers' coefficients multiplied), which needs "
           "more than {} steps for each step to stay invertible",
           label_, limit, options_.steps);
}

Tensor DiffeomorphicFlow::integrate(const Tensor& x, double direction, Tensor* logdet, Tensor* energy) {
  int64_t n = x.size(0), steps = options_.steps;
  Tensor probes, weights;
  if (logdet && !options_.exact_logdet) {
    Shape shape = x.shape();
    shape.insert(shape.begin() + 1, steps);  // [N, T, ...]: every step's probes in one draw
    probes = draw_probes(shape, x.dtype(), x.device(), options_.probe);
    weights = Tensor::ones({n, options_.terms}, x.dtype(), x.device());
  }
  bool create_graph = grad_enabled();
  Tensor h = x;
  for (int64_t k = 0; k < steps; ++k) {
    Tensor v = velocity_->forward(h);
    Tensor g = mul(v, direction / double(steps));
    if (logdet) {
      Tensor ld = options_.exact_logdet ? exact_residual_logdet(g, h, create_graph)
                                        : power_series_logdet(g, h, probes.select(1, k), weights, create_graph);
      *logdet = logdet->defined() ? add(*logdet, ld) : ld;
    }
    if (energy) {
      Tensor e = mul(sum_except_batch(square(v)), 1.0 / double(steps));
      *energy = energy->defined() ? add(*energy, e) : e;
    }
    h = add(h, g);
  }
  return h;
}

TransformResult DiffeomorphicFlow::flow(const Tensor& x, const Tensor& context, double direction) {
  FT_CHECK(x.dim() >= 2 && x.size(0) > 0, "{}: takes [N, ...] with N > 0, got {}", label_, shape_str(x.shape()));
  check_context(context, 0, x);
  bool outer = grad_enabled();
  GradModeGuard with_grad(true);  // the Taylor terms need v's graph whatever the caller's mode
  Tensor input = graph_input(x, outer), logdet, energy;
  bool regularise = outer && training() && direction > 0.0;
  bool geodesic = regularise && options_.geodesic_weight > 0.0;
  Tensor y = integrate(input, direction, &logdet, geodesic ? &energy : nullptr);
  if (!outer) return {y.detach(), logdet.detach()};
  geodesic_ = energy;
  consistency_ = Tensor();
  if (regularise && options_.consistency_weight > 0.0)
    consistency_ = sum_except_batch(square(sub(integrate(y, -direction, nullptr, nullptr), input)));
  return {y, logdet};
}

Tensor DiffeomorphicFlow::take_regularisation() {
  Tensor total;
  if (geodesic_.defined()) total = mul(geodesic_, options_.geodesic_weight);
  if (consistency_.defined()) {
    Tensor c = mul(consistency_, options_.consistency_weight);
    total = total.defined() ? add(total, c) : c;
  }
  geodesic_ = consistency_ = Tensor();
  return total;
}

TransformResult DiffeomorphicFlow::forward(const Tensor& x, const Tensor& context) { return flow(x, context, 1.0); }

TransformResult DiffeomorphicFlow::inverse(const Tensor& y, const Tensor& context) { return flow(y, context, -1.0); }

}  // namespace ft::layers::flows
