// NICE's diagonal scaling layer: z = x * exp(log_scale), logabsdet = sum log_scale,
// log_scale [D] learned (starts at 0).
#pragma once
#include "layers/flows/transform.h"

namespace ft::layers::flows {

class DiagonalScaling : public Transform {
 public:
  explicit DiagonalScaling(int64_t features);
  TransformResult forward(const Tensor& x, const Tensor& context) override;
  TransformResult inverse(const Tensor& y, const Tensor& context) override;
  Tensor log_scale;
};

}  // namespace ft::layers::flows
