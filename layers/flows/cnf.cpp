#include "layers/flows/cnf.h"

#include "framework/autograd/grad.h"
#include "framework/autograd/grad_mode.h"
#include "framework/core/check.h"
#include "framework/ops/ops.h"

namespace ft::layers::flows {

namespace {

double batch_mean(const Tensor& per_example) { return mean(per_example.detach()).item(); }

// A vector-Jacobian product that is zero where f does not depend on z.
Tensor product_or_zeros(const Tensor& f, const Tensor& z, const Tensor& v, bool create_graph, bool retain_graph) {
  Tensor p = grad({f}, {z}, {v}, create_graph, retain_graph)[0];
  return p.defined() ? p : Tensor::zeros_like(z);
}

}  // namespace

TraceEstimator parse_trace_estimator(const std::string& name, const std::string& key) {
  if (name == "exact") return TraceEstimator::exact;
  if (name == "hutchinson") return TraceEstimator::hutchinson;
  FT_FAIL("{} is \"{}\"; expected exact or hutchinson", key, name);
}

void ContinuousFlowOptions::validate(const std::string& who) const {
  FT_CHECK(time_length > 0.0, "{}: time_length must be > 0, got {}", who, time_length);
  FT_CHECK(solver.atol > 0.0 && solver.rtol > 0.0, "{}: atol and rtol must be > 0, got {} and {}", who, solver.atol,
           solver.rtol);
  FT_CHECK(solver.method == ode::Method::dopri5 || solver.step_size > 0.0,
           "{}: method {} needs step_size > 0, got {}", who, ode::method_name(solver.method), solver.step_size);
  FT_CHECK(solver.max_evaluations >= 1, "{}: max_evaluations must be >= 1, got {}", who, solver.max_evaluations);
  FT_CHECK(kinetic_weight >= 0.0 && jacobian_weight >= 0.0,
           "{}: the RNODE weights must be >= 0, got kinetic_energy {} and jacobian_norm {}", who, kinetic_weight,
           jacobian_weight);
}

ContinuousFlow::ContinuousFlow(std::shared_ptr<OdeNetwork> net, ContinuousFlowOptions options, std::string label)
    : net_(register_module("net", std::move(net))), options_(options), label_(std::move(label)) {
  options_.validate(label_);
}

void ContinuousFlow::divergence(const Tensor& f, const Tensor& z, const Tensor& probes, bool create_graph,
                                Tensor* trace, Tensor* squared_norm) const {
  int64_t n = z.size(0), d = z.numel() / n;
  if (options_.trace == TraceEstimator::hutchinson) {
    Tensor product = product_or_zeros(f, z, probes, create_graph, false);
    *trace = sum_except_batch(mul(product, probes));
    if (squared_norm) *squared_norm = sum_except_batch(square(product));
    return;
  }
  // Row i of each example's Jacobian is e_i^T df/dz; its i-th entry is on the diagonal.
  std::vector<Tensor> diagonal;
  Tensor frobenius;
  for (int64_t i = 0; i < d; ++i) {
    Tensor unit = Tensor::zeros({n, d}, z.dtype(), z.device());
    unit.slice(1, i, i + 1).fill_(1.0);
    Tensor row = product_or_zeros(f, z, unit.reshape(z.shape()), create_graph, create_graph || i + 1 < d)
                     .reshape({n, d});
    diagonal.push_back(row.slice(1, i, i + 1));
    if (squared_norm) frobenius = frobenius.defined() ? add(frobenius, sum(square(row), {1})) : sum(square(row), {1});
  }
  *trace = sum(concat(diagonal, 1), {1});
  if (squared_norm) *squared_norm = frobenius;
}

// The augmented field on [z, logdet (, kinetic energy, Jacobian norm)].
ode::VectorField ContinuousFlow::field(const Tensor& probes, bool regularise) {
  return [this, probes, regularise](double t, const ode::State& state) {
    bool outer = grad_enabled();
    GradModeGuard with_grad(true);
    Tensor z = state[0];
    if (!z.requires_grad()) {
      z = z.detach();
      z.set_requires_grad(true);
    }
    Tensor f = net_->forward(t, z), trace, squared_norm;
    divergence(f, z, probes, outer, &trace, regularise ? &squared_norm : nullptr);
    ode::State rates{f, trace};
    if (regularise) {
      rates.push_back(sum_except_batch(square(f)));
      rates.push_back(squared_norm);
    }
    if (!outer)
      for (Tensor& r : rates) r = r.detach();
    return rates;
  };
}

ContinuousFlow::Integration ContinuousFlow::integrate(const Tensor& x, double t0, double t1, bool regularise) {
  FT_CHECK(x.dim() >= 2 && x.size(0) > 0, "{}: a continuous flow takes [N, ...] with N > 0, got {}", label_,
           shape_str(x.shape()));
  int64_t n = x.size(0);
  Tensor probes = options_.trace == TraceEstimator::hutchinson ? draw_probes(x.shape(), x.dtype(), x.device(), options_.probe) : Tensor();
  ode::State y0{x, Tensor::zeros({n}, x.dtype(), x.device())};
  if (regularise) {
    y0.push_back(Tensor::zeros({n}, x.dtype(), x.device()));
    y0.push_back(Tensor::zeros({n}, x.dtype(), x.device()));
  }
  ode::VectorField f = field(probes, regularise);
  ode::Solution solution;
  try {
    if (options_.adjoint && grad_enabled()) {
      std::vector<Tensor> parameters;
      for (const Tensor& p : net_->parameters())
        if (p.requires_grad()) parameters.push_back(p);
      solution = ode::solve_adjoint(f, y0, t0, t1, parameters, options_.solver, options_.solver);
    } else {
      solution = ode::solve(f, y0, t0, t1, options_.solver);
    }
  } catch (const Error& e) {
    FT_FAIL("{}: {} (raise max_evaluations, loosen atol/rtol or add RNODE regularisation)", label_, e.what());
  }
  statistics_ = {};
  statistics_.forward_evaluations = solution.stats.evaluations;
  adjoint_stats_ = solution.adjoint_stats;
  Integration out{solution.y[0], solution.y[1], Tensor(), Tensor()};
  if (regularise) {
    out.kinetic = solution.y[2];
    out.jacobian = solution.y[3];
  }
  return out;
}

TransformResult ContinuousFlow::forward(const Tensor& x, const Tensor& context) {
  check_context(context, 0, x);
  bool regularise = training() && grad_enabled() && options_.regularised();
  Integration r = integrate(x, 0.0, options_.time_length, regularise);
  regularisation_ = Tensor();
  if (regularise) {
    statistics_.kinetic_energy = batch_mean(r.kinetic);
    statistics_.jacobian_norm = batch_mean(r.jacobian);
    regularisation_ = add(mul(r.kinetic, options_.kinetic_weight), mul(r.jacobian, options_.jacobian_weight));
  }
  return {r.y, r.logdet};
}

TransformResult ContinuousFlow::inverse(const Tensor& y, const Tensor& context) {
  check_context(context, 0, y);
  Integration r = integrate(y, options_.time_length, 0.0, false);
  return {r.y, r.logdet};
}

Tensor ContinuousFlow::take_regularisation() { return std::exchange(regularisation_, Tensor()); }

ContinuousFlowStatistics ContinuousFlow::statistics() const {
  ContinuousFlowStatistics out = statistics_;
  if (adjoint_stats_) out.backward_evaluations = adjoint_stats_->evaluations;
  return out;
}

}  // namespace ft::layers::flows
