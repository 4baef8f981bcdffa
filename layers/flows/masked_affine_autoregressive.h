// MAF (Papamakarios et al. 2017) as nflows' MaskedAffineAutoregressiveTransform:
// MADE gives per feature [raw scale, shift]; scale = softplus(raw) + 1e-3,
// z = x * scale + shift, logabsdet = sum log scale. Forward is one MADE pass;
// inverse solves feature by feature, D passes (feature i is exact after pass i).
// IAF is its InverseTransform (make_iaf): sampling in one pass, density in D.
#pragma once
#include <memory>

#include "layers/flows/made.h"
#include "layers/flows/transform.h"

namespace ft::layers::flows {

class MaskedAffineAutoregressive : public Transform {
 public:
  MaskedAffineAutoregressive(int64_t features, int64_t hidden, int64_t hidden_layers, int64_t context_features,
                             Generator& gen);
  TransformResult forward(const Tensor& x, const Tensor& context) override;
  TransformResult inverse(const Tensor& y, const Tensor& context) override;
  std::shared_ptr<MADE> made;

 private:
  std::pair<Tensor, Tensor> log_scale_and_shift(const Tensor& x, const Tensor& context) const;
};

std::shared_ptr<Transform> make_iaf(int64_t features, int64_t hidden, int64_t hidden_layers, int64_t context_features,
                                    Generator& gen);

}  // namespace ft::layers::flows
