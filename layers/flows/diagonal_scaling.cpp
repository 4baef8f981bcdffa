#include "layers/flows/diagonal_scaling.h"

#include "framework/ops/ops.h"

namespace ft::layers::flows {

DiagonalScaling::DiagonalScaling(int64_t features) {
  log_scale = Tensor::zeros({features});
  register_parameter("log_scale", &log_scale);
}

TransformResult DiagonalScaling::forward(const Tensor& x, const Tensor& context) {
  check_features(x, log_scale.size(0), "diagonal scaling");
  (void)context;  // unconditional inside a conditional composite
  Tensor s = log_scale.to(x.dtype());
  return {mul(x, exp(s)), sum(s).reshape({1}).expand({x.size(0)})};
}

TransformResult DiagonalScaling::inverse(const Tensor& y, const Tensor& context) {
  check_features(y, log_scale.size(0), "diagonal scaling");
  (void)context;
  Tensor s = log_scale.to(y.dtype());
  return {mul(y, exp(neg(s))), neg(sum(s)).reshape({1}).expand({y.size(0)})};
}

}  // namespace ft::layers::flows
