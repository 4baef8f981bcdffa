#pragma once
#include "framework/nn/init.h"
#include "framework/nn/module.h"
#include "framework/random/generator.h"

namespace ft::nn {

// NCHW convolution, stride 1, "same" zero padding for odd kernels (1x1, 3x3).
class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, bool bias, Generator& gen,
         Init init = Init::uniform);
  Tensor forward(const Tensor& x) const;
  int64_t padding() const { return padding_; }
  Tensor weight, bias;

 private:
  int64_t padding_;
};

}  // namespace ft::nn
