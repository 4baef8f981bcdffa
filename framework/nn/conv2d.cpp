#include "framework/nn/conv2d.h"

#include <cmath>

#include "framework/ops/ops.h"

namespace ft::nn {

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, bool with_bias, Generator& gen,
               Init init)
    : padding_(kernel_size / 2) {
  FT_CHECK(kernel_size % 2 == 1, "Conv2d kernel size {} (odd sizes keep the image size)", kernel_size);
  Shape shape{out_channels, in_channels, kernel_size, kernel_size};
  double bound = 1.0 / std::sqrt(double(in_channels * kernel_size * kernel_size));
  weight = init == Init::zeros ? Tensor::zeros(shape) : uniform(shape, -bound, bound, gen);
  register_parameter("weight", &weight);
  if (with_bias) {
    bias = init == Init::zeros ? Tensor::zeros({out_channels}) : uniform({out_channels}, -bound, bound, gen);
    register_parameter("bias", &bias);
  }
}

Tensor Conv2d::forward(const Tensor& x) const { return conv2d(x, weight, bias, padding_); }

}  // namespace ft::nn
