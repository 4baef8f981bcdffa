// The logit preprocessing of RealNVP and NICE-style image flows (Dinh et al. 2017,
// section 4.1): data u in [0, 1) (flowtrain's flow models see pixels / 256 plus
// uniform noise) is moved off the boundary and mapped to the real line,
//   p = alpha + (1 - 2 alpha) u,  z = log p - log(1 - p),
// logabsdet = sum log(1 - 2 alpha) - log p - log(1 - p). Its log-determinant is part
// of the model's likelihood, so bits/dim stay those of the data in [0, 1).
// Elementwise: any shape [N, ...].
#pragma once
#include "layers/flows/transform.h"

namespace ft::layers::flows {

class LogitTransform : public Transform {
 public:
  explicit LogitTransform(double alpha = 0.05);  // 0 <= alpha < 0.5
  TransformResult forward(const Tensor& x, const Tensor& context) override;
  TransformResult inverse(const Tensor& y, const Tensor& context) override;

 private:
  double alpha_;
};

}  // namespace ft::layers::flows
