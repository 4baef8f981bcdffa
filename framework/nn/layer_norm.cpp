#include "framework/nn/layer_norm.h"

#include "framework/ops/ops.h"

namespace ft::nn {

LayerNorm::LayerNorm(int64_t dim, double eps, bool affine) : eps_(eps) {
  if (affine) {
    weight = Tensor::ones({dim});
    bias = Tensor::zeros({dim});
    register_parameter("weight", &weight);
    register_parameter("bias", &bias);
  }
}

Tensor LayerNorm::forward(const Tensor& x) const { return layer_norm(x, weight, bias, eps_); }

}  // namespace ft::nn
