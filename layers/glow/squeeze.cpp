#include "layers/glow/squeeze.h"

#include "framework/ops/ops.h"

namespace ft::layers {

FlowResult Squeeze::forward(const Tensor& x) {
  return {space_to_depth(x, 2), Tensor::zeros({x.size(0)}, x.dtype(), x.device())};
}

Tensor Squeeze::inverse(const Tensor& y) { return depth_to_space(y, 2); }

FlowResult Squeeze::inverse_with_logdet(const Tensor& y) {
  return {inverse(y), Tensor::zeros({y.size(0)}, y.dtype(), y.device())};
}

}  // namespace ft::layers
