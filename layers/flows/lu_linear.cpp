#include "layers/flows/lu_linear.h"

#include "framework/ops/ops.h"

namespace ft::layers::flows {

LULinear::LULinear(int64_t features, Generator& gen) {
  lu = register_module("lu", std::make_shared<InvertibleConv1x1>(features, layers::Permutation::lu, gen));
  bias = Tensor::zeros({features});
  register_parameter("bias", &bias);
}

Tensor LULinear::logabsdet(const Tensor& x, double sign) const {
  return mul(lu->log_abs_det().to(x.dtype()), sign).reshape({1}).expand({x.size(0)});
}

TransformResult LULinear::forward(const Tensor& x, const Tensor& context) {
  check_features(x, bias.size(0), "LU linear");
  (void)context;
  return {linear(x, weight_matrix().to(x.dtype()), bias.to(x.dtype())), logabsdet(x, 1.0)};
}

TransformResult LULinear::inverse(const Tensor& y, const Tensor& context) {
  check_features(y, bias.size(0), "LU linear");
  (void)context;
  // The inverse of a product of triangles in f64, as Glow's 1x1 convolution.
  Tensor w_inv = ft::inverse(weight_matrix().to(DType::f64)).to(y.dtype());
  return {linear(sub(y, bias.to(y.dtype())), w_inv, Tensor()), logabsdet(y, -1.0)};
}

}  // namespace ft::layers::flows
