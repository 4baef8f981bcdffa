#pragma once
#include "framework/nn/init.h"
#include "framework/nn/module.h"
#include "framework/random/generator.h"

namespace ft::nn {

// Weight-normalised NCHW convolution (Salimans & Kingma 2016; torch.nn.utils.weight_norm
// over dim 0): weight = magnitude[o] * direction[o] / ||direction[o]||, stride 1, "same"
// zero padding for odd kernels. Init::uniform starts as Conv2d's initialisation
// (magnitude = ||direction||, as PyTorch's weight_norm); Init::zeros starts magnitude
// and bias at zero with a random direction, so the output starts at zero and the
// direction still gets gradients once the magnitude moves.
class WeightNormConv2d : public Module {
 public:
  WeightNormConv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, bool bias, Generator& gen,
                   Init init = Init::uniform);
  Tensor forward(const Tensor& x) const;
  Tensor weight() const;
  Tensor direction, magnitude, bias;  // [O, I, k, k], [O], [O] (bias optional)

 private:
  int64_t padding_;
};

}  // namespace ft::nn
