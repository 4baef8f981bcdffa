// The adjoint method (Chen et al. 2018, torchdiffeq's OdeintAdjointMethod): the
// gradient of a loss L(y(t1)) solves, backward from t1 to t0,
//   dy/dt = f(t, y),  da/dt = -a^T df/dy,  da_theta/dt = -a^T df/dtheta,
// from a(t1) = dL/dy(t1), a_theta(t1) = 0; then a(t0) = dL/dy0, a_theta(t0) = dL/dtheta.
#include <memory>

#include "framework/autograd/grad.h"
#include "framework/autograd/grad_mode.h"
#include "framework/autograd/node.h"
#include "framework/core/check.h"
#include "framework/ode/ode.h"
#include "framework/ops/ops.h"

namespace ft::ode {

namespace {

State detached(const State& state) {
  State out;
  for (const Tensor& t : state) out.push_back(t.detach());
  return out;
}

// The right-hand side of the augmented system on [y (n), a (n), a_theta (m)]: one
// evaluation of f with a graph, and one vector-Jacobian product through it by
// ft::grad, which frees that graph. Nothing it returns carries a graph.
VectorField augmented_dynamics(VectorField f, size_t n, std::vector<Tensor> parameters) {
  return [f = std::move(f), n, parameters = std::move(parameters)](double t, const State& state) {
    State leaves, cotangents;
    for (size_t i = 0; i < n; ++i) {
      Tensor y = state[i].detach();
      y.set_requires_grad(true);
      leaves.push_back(y);
    }
    State dy;
    {
      GradModeGuard with_graph(true);
      dy = f(t, leaves);
    }
    FT_CHECK(dy.size() == n, "ode solver (adjoint): the vector field returned {} tensors for a state of {}", dy.size(),
             n);
    std::vector<Tensor> roots, wrt = leaves;
    wrt.insert(wrt.end(), parameters.begin(), parameters.end());
    for (size_t i = 0; i < n; ++i)
      if (dy[i].requires_grad()) {
        roots.push_back(dy[i]);
        cotangents.push_back(neg(state[n + i]));
      }
    std::vector<Tensor> products(wrt.size());
    if (!roots.empty()) products = grad(roots, wrt, cotangents);
    State rate;
    for (const Tensor& d : dy) rate.push_back(d.detach());
    for (size_t j = 0; j < wrt.size(); ++j)
      rate.push_back(products[j].defined() ? products[j] : Tensor::zeros_like(wrt[j]));
    return rate;
  };
}

// The backward of the adjoint node: from dL/d(flat y(t1)) to the gradients of the
// inputs that require grad (those of y0, then the parameters).
struct AdjointBackward {
  VectorField f;
  State y1;  // the forward solve's result, detached
  double t0, t1;
  std::vector<bool> y0_requires_grad;
  std::vector<Tensor> parameters;
  SolverOptions adjoint_options;
  std::shared_ptr<SolveStats> stats;

  std::vector<Tensor> operator()(const Tensor& grad_flat) const {
    NoGradGuard no_grad;
    const size_t n = y1.size();
    State augmented = y1;
    int64_t offset = 0;
    for (const Tensor& y : y1) {
      augmented.push_back(grad_flat.slice(0, offset, offset + y.numel()).contiguous().reshape(y.shape()));
      offset += y.numel();
    }
    for (const Tensor& p : parameters) augmented.push_back(Tensor::zeros_like(p));
    Solution back = solve(augmented_dynamics(f, n, parameters), augmented, t1, t0, adjoint_options);
    *stats = back.stats;
    std::vector<Tensor> grads;
    for (size_t i = 0; i < n; ++i)
      if (y0_requires_grad[i]) grads.push_back(back.y[n + i]);
    for (size_t j = 0; j < parameters.size(); ++j) grads.push_back(back.y[2 * n + j]);
    return grads;
  }
};

}  // namespace

Solution solve_adjoint(const VectorField& f, const State& y0, double t0, double t1,
                       const std::vector<Tensor>& parameters, const SolverOptions& options,
                       const SolverOptions& adjoint_options) {
  FT_CHECK(!y0.empty(), "ode solver: an empty initial state (no tensors)");
  for (size_t i = 0; i < y0.size(); ++i) {
    FT_CHECK(y0[i].defined(), "ode solver: initial state tensor {} is undefined", i);
    FT_CHECK(y0[i].dtype() == y0[0].dtype() && y0[i].device() == y0[0].device(),
             "ode solver (adjoint): state tensor {} is {} on {} but tensor 0 is {} on {}; the adjoint needs one dtype "
             "and device",
             i, dtype_name(y0[i].dtype()), y0[i].device().str(), dtype_name(y0[0].dtype()), y0[0].device().str());
  }
  Solution solution;
  {
    NoGradGuard no_grad;
    solution = solve(f, detached(y0), t0, t1, options);
  }
  std::vector<Tensor> inputs, trained;
  std::vector<bool> y0_requires_grad;
  for (const Tensor& y : y0) {
    y0_requires_grad.push_back(y.requires_grad());
    if (y.requires_grad()) inputs.push_back(y);
  }
  for (const Tensor& p : parameters)
    if (p.defined() && p.requires_grad()) trained.push_back(p);
  inputs.insert(inputs.end(), trained.begin(), trained.end());
  if (!any_requires_grad(inputs)) return solution;

  // The node has one output: the final states flattened into one tensor, which
  // differentiable views then split back into the state's tensors.
  std::vector<Tensor> flat_parts;
  for (const Tensor& y : solution.y) flat_parts.push_back(y.reshape({y.numel()}));
  Tensor flat = concat(flat_parts, 0);
  auto stats = std::make_shared<SolveStats>();
  record("ode_adjoint", flat, inputs,
         AdjointBackward{f, solution.y, t0, t1, y0_requires_grad, trained, adjoint_options, stats});
  int64_t offset = 0;
  for (Tensor& y : solution.y) {
    const Shape shape = y.shape();
    y = flat.slice(0, offset, offset + y.numel()).reshape(shape);
    offset += numel_of(shape);
  }
  solution.adjoint_stats = stats;
  return solution;
}

}  // namespace ft::ode
