#include "framework/nn/lipswish.h"

#include "framework/ops/ops.h"

namespace ft::nn {

LipSwish::LipSwish() : beta_parameter(Tensor::full({1}, 0.5)) { register_parameter("beta", &beta_parameter); }

Tensor LipSwish::forward(const Tensor& x) const {
  Tensor beta = softplus(beta_parameter.to(x.dtype()));
  return mul(mul(x, sigmoid(mul(x, beta))), 1.0 / 1.1);
}

}  // namespace ft::nn
