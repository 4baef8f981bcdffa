#pragma once
#include <memory>

#include "framework/nn/linear.h"

namespace ft::nn {

// Linear(dim -> hidden) -> GELU -> Linear(hidden -> out): the transformer MLP.
class MLP : public Module {
 public:
  MLP(int64_t dim, int64_t hidden, int64_t out, Generator& gen);
  Tensor forward(const Tensor& x) const;
  std::shared_ptr<Linear> fc1, fc2;
};

}  // namespace ft::nn
