// Coupling transforms over vectors [N, D] (nflows semantics): a feature mask picks
// the transformed features (mask 1) and the identity features (mask 0); a dense
// conditioner of concat(identity, context) gives the transformed features' parameters.
//   additive (NICE):     z = x + shift
//   affine (RealNVP):    params = [shift (T), raw scale (T)], scale = sigmoid(raw + 2) + 1e-3,
//                        z = x * scale + shift, logabsdet = sum log scale
#pragma once
#include <memory>
#include <vector>

#include "layers/flows/dense_network.h"
#include "layers/flows/transform.h"

namespace ft::layers::flows {

enum class CouplingKind { additive, affine };

// Feature masks: alternating (1 on odd features, as nflows' create_alternating_binary_mask
// with even=false) and its complement (even=true).
std::vector<int> alternating_mask(int64_t features, bool even);

class CouplingTransform : public Transform {
 public:
  CouplingTransform(std::vector<int> mask, CouplingKind kind, int64_t hidden, int64_t hidden_layers,
                    int64_t context_features, Generator& gen);
  TransformResult forward(const Tensor& x, const Tensor& context) override;
  TransformResult inverse(const Tensor& y, const Tensor& context) override;
  std::shared_ptr<DenseNetwork> conditioner;

 private:
  struct ScaleShift {
    Tensor log_scale, shift;  // log_scale undefined for additive
  };
  ScaleShift scale_and_shift(const Tensor& identity, const Tensor& context) const;
  Tensor merge(const Tensor& identity, const Tensor& transformed) const;
  CouplingKind kind_;
  int64_t features_, transformed_count_;
  Tensor identity_index_, transform_index_, merge_index_;
};

}  // namespace ft::layers::flows
