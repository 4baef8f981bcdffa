// Shared helpers for flow tests (Glow and TARFLOW): random parameters, brute-force
// Jacobians. Comparisons are tests/support/tensor_compare.h.
#pragma once
#include <functional>

#include "framework/autograd/grad_mode.h"
#include "framework/nn/module.h"
#include "framework/ops/ops.h"
#include "framework/random/generator.h"
#include "tests/support/tensor_compare.h"

namespace ft::testing {

// Replaces every parameter with value + N(0, scale^2), so zero-initialised
// layers stop being identities and inverses are really exercised.
inline void perturb_parameters(nn::Module& module, uint64_t seed, double scale) {
  NoGradGuard no_grad;
  Generator gen(seed, 77);
  for (auto& [name, t] : module.named_parameters()) {
    Tensor noise = normal(t.shape(), 0.0, scale, gen, t.dtype());
    Tensor slot = t;
    slot.copy_(add(t.detach(), noise));
  }
}

// Full Jacobian d f(x) / d x of a function of one example, [outputs, inputs],
// by one backward pass per output.
inline Tensor jacobian(const std::function<Tensor(const Tensor&)>& f, const Tensor& x0) {
  Tensor x = x0.detach().clone();
  x.set_requires_grad(true);
  Tensor y = f(x).reshape({-1});
  int64_t outputs = y.numel(), inputs = x.numel();
  Tensor jac = Tensor::zeros({outputs, inputs}, DType::f64);
  for (int64_t i = 0; i < outputs; ++i) {
    x.set_grad(Tensor());
    Tensor seed = Tensor::zeros({outputs}, y.dtype());
    seed.slice(0, i, i + 1).fill_(1.0);
    y.backward(seed, true);
    Tensor g = x.grad();
    if (g.defined()) jac.select(0, i).copy_(g.reshape({-1}));
  }
  return jac;
}

// log|det d f(x) / d x| of one example x [1, D] by central differences of f (no
// autograd: an independent check of log-determinants computed from gradients).
inline double central_difference_logdet(const std::function<Tensor(const Tensor&)>& f, const Tensor& x,
                                        double h = 1e-6) {
  NoGradGuard no_grad;
  int64_t d = x.size(1);
  Tensor jac = Tensor::zeros({d, d}, DType::f64);
  for (int64_t j = 0; j < d; ++j) {
    Tensor plus = x.clone(), minus = x.clone();
    plus.slice(1, j, j + 1).copy_(add(x.slice(1, j, j + 1), h));
    minus.slice(1, j, j + 1).copy_(add(x.slice(1, j, j + 1), -h));
    jac.slice(1, j, j + 1).copy_(mul(sub(f(plus), f(minus)), 0.5 / h).reshape({d, 1}));
  }
  return logabsdet(jac).item();
}

}  // namespace ft::testing
