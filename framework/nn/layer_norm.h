#pragma once
#include "framework/nn/module.h"

namespace ft::nn {

// Normalises the last dimension; affine weight (ones) and bias (zeros) optional.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t dim, double eps = 1e-5, bool affine = true);
  Tensor forward(const Tensor& x) const;
  Tensor weight, bias;

 private:
  double eps_;
};

}  // namespace ft::nn
