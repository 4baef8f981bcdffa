// An invertible linear map z = W x + b of [N, D] with W = P L (U + diag(s)) (L unit
// lower, U strictly upper, s = sign * exp(log_s), P and sign fixed): Glow's LU
// parametrisation (layers/glow/invertible_conv.h, whose weight matrix it uses),
// starting as a random rotation; logabsdet = sum log|s|.
#pragma once
#include <memory>

#include "layers/flows/transform.h"
#include "layers/glow/invertible_conv.h"

namespace ft::layers::flows {

class LULinear : public Transform {
 public:
  LULinear(int64_t features, Generator& gen);
  TransformResult forward(const Tensor& x, const Tensor& context) override;
  TransformResult inverse(const Tensor& y, const Tensor& context) override;
  Tensor weight_matrix() const { return lu->weight_matrix(); }
  std::shared_ptr<InvertibleConv1x1> lu;
  Tensor bias;

 private:
  Tensor logabsdet(const Tensor& x, double sign) const;
};

}  // namespace ft::layers::flows
