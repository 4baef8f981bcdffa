#include "framework/nn/mlp.h"

#include "framework/ops/ops.h"

namespace ft::nn {

MLP::MLP(int64_t dim, int64_t hidden, int64_t out, Generator& gen) {
  fc1 = register_module("fc1", std::make_shared<Linear>(dim, hidden, true, gen));
  fc2 = register_module("fc2", std::make_shared<Linear>(hidden, out, true, gen));
}

Tensor MLP::forward(const Tensor& x) const { return fc2->forward(gelu(fc1->forward(x))); }

}  // namespace ft::nn
