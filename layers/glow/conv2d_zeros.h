#pragma once
#include "framework/nn/module.h"

namespace ft::layers {

// openai/glow's conv2d_zeros: a 3x3 convolution whose weight, bias and log-scale
// start at zero, output (conv(x) + b) * exp(3 * logs). Ends coupling networks and
// priors so every flow starts as the identity.
class Conv2dZeros : public nn::Module {
 public:
  Conv2dZeros(int64_t in_channels, int64_t out_channels);
  Tensor forward(const Tensor& x) const;
  // The output for an all-zero input, without running the convolution.
  Tensor forward_zeros(int64_t n, int64_t height, int64_t width, DType dtype) const;
  Tensor weight, bias, logs;

  static constexpr double kLogScaleFactor = 3.0;
};

}  // namespace ft::layers
