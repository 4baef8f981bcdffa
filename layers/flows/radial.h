// Radial flow (Rezende & Mohamed 2015) as normflows' Radial: with r = |x - x0|,
// alpha = |alpha_raw|, beta = softplus(beta_raw) - alpha (so beta >= -alpha: invertible),
// h = beta / (alpha + r): z = x + h (x - x0),
// logabsdet = (D - 1) log(1 + h) + log(1 + h - beta r / (alpha + r)^2).
// Inverse by the radius equation r_z = r (1 + beta / (alpha + r)), i.e. the quadratic
// r^2 + (alpha + beta - r_z) r - alpha r_z = 0 whose non-negative root is r; then
// x = x0 + (z - x0) / (1 + beta / (alpha + r)).
#pragma once
#include "framework/random/generator.h"
#include "layers/flows/transform.h"

namespace ft::layers::flows {

class RadialFlow : public Transform {
 public:
  RadialFlow(int64_t features, Generator& gen);  // normflows' initialisation
  TransformResult forward(const Tensor& x, const Tensor& context) override;
  TransformResult inverse(const Tensor& y, const Tensor& context) override;
  Tensor x0, alpha, beta;  // [D], [1], [1] (raw, unconstrained)

 private:
  struct Constants {
    Tensor alpha, beta;
  };
  Constants constrained(DType dtype) const;
  Tensor logabsdet_at(const Tensor& r, const Constants& k) const;
};

}  // namespace ft::layers::flows
