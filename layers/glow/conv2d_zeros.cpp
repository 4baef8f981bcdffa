#include "layers/glow/conv2d_zeros.h"

#include "framework/ops/ops.h"

namespace ft::layers {

Conv2dZeros::Conv2dZeros(int64_t in_channels, int64_t out_channels) {
  weight = Tensor::zeros({out_channels, in_channels, 3, 3});
  bias = Tensor::zeros({out_channels});
  logs = Tensor::zeros({out_channels});
  register_parameter("weight", &weight);
  register_parameter("bias", &bias);
  register_parameter("logs", &logs);
}

Tensor Conv2dZeros::forward(const Tensor& x) const {
  Tensor y = conv2d(x, weight.to(x.dtype()), Tensor(), 1);
  // (y + bias) * exp(logs * 3), fused
  return channel_affine(y, bias.to(x.dtype()), mul(logs.to(x.dtype()), kLogScaleFactor));
}

Tensor Conv2dZeros::forward_zeros(int64_t n, int64_t height, int64_t width, DType dtype) const {
  Tensor per_channel = mul(bias.to(dtype), exp(mul(logs.to(dtype), kLogScaleFactor)));
  return per_channel.reshape({1, -1, 1, 1}).expand({n, bias.size(0), height, width});
}

}  // namespace ft::layers
