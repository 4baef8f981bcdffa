// Autoregressive transforms on MADE (nflows' AutoregressiveTransform): forward is one
// MADE pass, z = f(x; MADE(x)); the inverse solves feature by feature, D passes
// (feature i is exact after pass i). IAF is an inverted MAF (make_iaf): sampling in
// one pass, density in D.
//   MAF (Papamakarios et al. 2017, nflows' MaskedAffineAutoregressiveTransform): per
//   feature [raw scale, shift], scale = softplus(raw) + 1e-3, z = x * scale + shift.
//   Rational-quadratic (nflows' MaskedPiecewiseRationalQuadraticAutoregressiveTransform,
//   linear tails): per feature the 3K - 1 spline parameters of rational_quadratic.h,
//   unscaled (nflows' MADE has no hidden_features attribute, so unlike its couplings
//   nflows divides nothing by sqrt(hidden) here).
#pragma once
#include <memory>

#include "layers/flows/coupling.h"
#include "layers/flows/made.h"
#include "layers/flows/rational_quadratic.h"
#include "layers/flows/transform.h"

namespace ft::layers::flows {

class MaskedAutoregressive : public Transform {
 public:
  MaskedAutoregressive(int64_t features, int64_t hidden, int64_t hidden_layers, int64_t parameters_per_feature,
                       int64_t context_features, Generator& gen);
  TransformResult forward(const Tensor& x, const Tensor& context) override;
  TransformResult inverse(const Tensor& y, const Tensor& context) override;
  std::shared_ptr<MADE> made;

 protected:
  // params [N, D, parameters_per_feature].
  virtual ElementwiseResult elementwise(const Tensor& x, const Tensor& params, bool inverse) const = 0;

 private:
  Tensor parameters(const Tensor& x, const Tensor& context) const;
};

class MaskedAffineAutoregressive : public MaskedAutoregressive {
 public:
  MaskedAffineAutoregressive(int64_t features, int64_t hidden, int64_t hidden_layers, int64_t context_features,
                             Generator& gen);

 protected:
  ElementwiseResult elementwise(const Tensor& x, const Tensor& params, bool inverse) const override;
};

class MaskedRationalQuadraticAutoregressive : public MaskedAutoregressive {
 public:
  MaskedRationalQuadraticAutoregressive(int64_t features, int64_t hidden, int64_t hidden_layers,
                                        int64_t context_features, SplineOptions spline, Generator& gen);

 protected:
  ElementwiseResult elementwise(const Tensor& x, const Tensor& params, bool inverse) const override;

 private:
  SplineOptions spline_;
};

std::shared_ptr<Transform> make_iaf(int64_t features, int64_t hidden, int64_t hidden_layers, int64_t context_features,
                                    Generator& gen);

}  // namespace ft::layers::flows
