// Coupling transforms over vectors [N, D] (nflows semantics): a feature mask picks
// the transformed features (mask 1) and the identity features (mask 0); a dense
// conditioner of concat(identity, context) gives the transformed features' parameters.
//   additive (NICE):     z = x + shift
//   affine (RealNVP):    params = [shift (T), raw scale (T)], scale = sigmoid(raw + 2) + 1e-3,
//                        z = x * scale + shift, logabsdet = sum log scale
//   rational_quadratic:  params [T, 3K - 1] per example, the spline of rational_quadratic.h
//                        (Durkan et al. 2019) with widths and heights divided by
//                        sqrt(hidden), as nflows does for a conditioner with hidden_features
#pragma once
#include <memory>
#include <vector>

#include "layers/flows/dense_network.h"
#include "layers/flows/transform.h"

namespace ft::layers::flows {

enum class CouplingKind { additive, affine, rational_quadratic };

struct SplineOptions {
  int64_t bins = 8;
  double tail_bound = 3.0;  // B: linear (identity) tails outside [-B, B]
};

// Parameters per transformed element of a spline of `bins` bins.
inline int64_t spline_parameters(int64_t bins) { return 3 * bins - 1; }
// Divides the widths and heights of params [..., 3K - 1] by sqrt(hidden) (nflows).
Tensor scale_spline_parameters(const Tensor& params, int64_t bins, int64_t hidden);

// Feature masks: alternating (1 on odd features, as nflows' create_alternating_binary_mask
// with even=false) and its complement (even=true).
std::vector<int> alternating_mask(int64_t features, bool even);

class CouplingTransform : public Transform {
 public:
  CouplingTransform(std::vector<int> mask, CouplingKind kind, int64_t hidden, int64_t hidden_layers,
                    int64_t context_features, Generator& gen, SplineOptions spline = {});
  TransformResult forward(const Tensor& x, const Tensor& context) override;
  TransformResult inverse(const Tensor& y, const Tensor& context) override;
  std::shared_ptr<DenseNetwork> conditioner;

 private:
  struct ScaleShift {
    Tensor log_scale, shift;  // log_scale undefined for additive
  };
  ScaleShift scale_and_shift(const Tensor& identity, const Tensor& context) const;
  TransformResult spline(const Tensor& input, const Tensor& context, bool inverse) const;
  Tensor merge(const Tensor& identity, const Tensor& transformed) const;
  CouplingKind kind_;
  SplineOptions spline_;
  int64_t features_, transformed_count_;
  Tensor identity_index_, transform_index_, merge_index_;
};

}  // namespace ft::layers::flows
