#pragma once
#include "framework/nn/init.h"
#include "framework/nn/module.h"
#include "framework/random/generator.h"

namespace ft::nn {

// y = x W^T + b, W [out, in].
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias, Generator& gen, Init init = Init::uniform);
  Tensor forward(const Tensor& x) const;
  Tensor weight, bias;
};

}  // namespace ft::nn
