// Helpers shared by the TARFLOW test files: tiny configs, perturbed weights,
// comparisons and brute-force Jacobians.
#pragma once
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "framework/ops/ops.h"
#include "framework/random/generator.h"
#include "layers/tarflow/tarflow.h"

namespace ft::tarflow_test {

// 2x4x4 images, 2x2 patches: 4 tokens of dim 8, two blocks (identity and reversed).
inline layers::TarflowConfig tiny_config(int64_t num_classes = 0) {
  layers::TarflowConfig c;
  c.channels = 2;
  c.image_size = 4;
  c.patch_size = 2;
  c.width = 16;
  c.blocks = 2;
  c.layers_per_block = 2;
  c.head_dim = 8;
  c.num_classes = num_classes;
  c.noise_std = 0.05;
  return c;
}

inline layers::TarflowBlockConfig tiny_block_config(bool reverse_order, int64_t num_classes = 0) {
  layers::TarflowBlockConfig c;
  c.tokens = 4;
  c.token_dim = 8;
  c.width = 16;
  c.layers = 2;
  c.head_dim = 8;
  c.num_classes = num_classes;
  c.reverse_order = reverse_order;
  return c;
}

// proj_out's weight starts at zero, which would make every block a constant affine
// map; give it (and the class embeddings) values large enough that the
// autoregressive dependence is visible. Sampling compounds exp(alpha) over tokens
// and blocks, so tests that sample from the prior use a smaller out_std.
inline void perturb(nn::Module& module, Generator& gen, double out_std = 0.2) {
  for (auto& [name, slot] : module.parameter_slots()) {
    bool out = name.ends_with("proj_out.weight"), cls = name.ends_with("class_embed");
    if (out || cls) slot->detach().copy_(normal(slot->shape(), 0.0, out ? out_std : 0.5, gen, slot->dtype()));
  }
}

inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  std::vector<double> va = a.to_double_vector(), vb = b.to_double_vector();
  FT_CHECK(va.size() == vb.size(), "comparing {} with {} elements", va.size(), vb.size());
  double m = 0.0;
  for (size_t i = 0; i < va.size(); ++i) m = std::max(m, std::abs(va[i] - vb[i]));
  return m;
}

inline double max_abs(const Tensor& a) {
  double m = 0.0;
  for (double v : a.to_double_vector()) m = std::max(m, std::abs(v));
  return m;
}

// d f(x) / d x as a dense [numel(f(x)), numel(x)] f64 matrix, one backward pass per row.
inline Tensor jacobian(const std::function<Tensor(const Tensor&)>& f, const Tensor& x) {
  Tensor xi = x.detach().clone();
  xi.set_requires_grad(true);
  Tensor y = f(xi);
  int64_t rows = y.numel(), cols = xi.numel();
  y = y.reshape({rows});
  Tensor j = Tensor::zeros({rows, cols}, DType::f64);
  for (int64_t r = 0; r < rows; ++r) {
    Tensor seed = Tensor::zeros({rows}, y.dtype());
    seed.select(0, r).fill_(1.0);
    xi.set_grad(Tensor());
    y.backward(seed, /*retain_graph=*/true);
    j.select(0, r).copy_(xi.grad().reshape({cols}).to(DType::f64));
  }
  return j;
}

}  // namespace ft::tarflow_test
