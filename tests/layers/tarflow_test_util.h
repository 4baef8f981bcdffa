// Helpers shared by the TARFLOW test files: tiny configs and perturbed weights;
// Jacobians from flow_testing.h, comparisons from tests/support/tensor_compare.h.
#pragma once
#include <string>

#include "framework/ops/ops.h"
#include "framework/random/generator.h"
#include "layers/tarflow/tarflow.h"
#include "tests/layers/flow_testing.h"
#include "tests/support/tensor_compare.h"

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

using testing::jacobian;
using testing::max_abs;
using testing::max_abs_difference;

}  // namespace ft::tarflow_test
