#include "framework/nn/weight_norm_conv2d.h"

#include <cmath>

#include "framework/ops/ops.h"

namespace ft::nn {

namespace {

Tensor norm_per_output(const Tensor& direction) { return sqrt(sum(square(direction), {1, 2, 3})); }

}  // namespace

WeightNormConv2d::WeightNormConv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, bool with_bias,
                                   Generator& gen, Init init)
    : padding_(kernel_size / 2) {
  FT_CHECK(kernel_size % 2 == 1, "WeightNormConv2d kernel size {} (odd sizes keep the image size)", kernel_size);
  double bound = 1.0 / std::sqrt(double(in_channels * kernel_size * kernel_size));
  direction = uniform({out_channels, in_channels, kernel_size, kernel_size}, -bound, bound, gen);
  magnitude = init == Init::zeros ? Tensor::zeros({out_channels}) : norm_per_output(direction).detach();
  register_parameter("direction", &direction);
  register_parameter("magnitude", &magnitude);
  if (with_bias) {
    bias = init == Init::zeros ? Tensor::zeros({out_channels}) : uniform({out_channels}, -bound, bound, gen);
    register_parameter("bias", &bias);
  }
}

Tensor WeightNormConv2d::weight() const {
  Tensor scale = div(magnitude, norm_per_output(direction));
  return mul(direction, scale.reshape({-1, 1, 1, 1}));
}

Tensor WeightNormConv2d::forward(const Tensor& x) const {
  return conv2d(x, weight().to(x.dtype()), bias.defined() ? bias.to(x.dtype()) : Tensor(), padding_);
}

}  // namespace ft::nn
