// Deep diffeomorphic normalizing flows (Salman et al. 2018) as a Transform over vectors
// [N, D] or images [N, C, H, W]: a stationary velocity field v, a small network of
// spectrally normalised layers with LipSwish (lipschitz_network.h: Lip(v) <= the
// product of its layers' coefficients), and the flow map its exponential exp(v), taken
// in T Euler steps x <- x + v(x) / T.
//   - log-determinant: per step log det(I + J_v / T) by its Taylor series
//     sum_k (-1)^(k+1) tr((J_v / T)^k) / k, truncated at `terms`, with Hutchinson's trace
//     estimator (residual_logdet.h), which converges fast as Lip(v) / T is small; or,
//     for small examples, exactly from the full Jacobian (exact_logdet);
//   - inverse: the exponential of -v, T Euler steps x <- x - v(x) / T: exact for the
//     continuous flow, O(1/T) off for the discrete one (inverse-consistency measures it);
//   - regularisers of a training forward, for the loss: the geodesic energy
//     (1/T) sum_steps |v(x_k)|^2, the squared length of the path, and the inverse
//     consistency |exp(-v)(exp(v)(x)) - x|^2, both per example, weighted by
//     geodesic_weight and consistency_weight (take_regularisation).
// Probes come from the block's stream as in residual_block.h.
#pragma once
#include <memory>

#include "framework/random/generator.h"
#include "layers/flows/lipschitz_network.h"
#include "layers/flows/stochastic_transform.h"
#include "layers/flows/transform.h"

namespace ft::layers::flows {

struct DiffeomorphicOptions {
  int64_t steps = 8;  // T
  int64_t terms = 6;  // Taylor terms per step
  TraceProbe probe = TraceProbe::gaussian;
  // Each step's log det(I + J/T) exactly, from the full Jacobian (small examples: 2-D
  // toys, whose density maps would otherwise take one noisy estimate per pixel).
  bool exact_logdet = false;
  // Loss weights of the regularisers (0: not computed; inverse consistency costs T more steps).
  double geodesic_weight = 0.0;
  double consistency_weight = 0.0;
  void validate(const std::string& who) const;
};

class DiffeomorphicFlow : public StochasticTransform {
 public:
  DiffeomorphicFlow(std::shared_ptr<LipschitzNetwork> velocity, DiffeomorphicOptions options, std::string label);
  TransformResult forward(const Tensor& x, const Tensor& context) override;
  TransformResult inverse(const Tensor& y, const Tensor& context) override;
  // Of the last forward in training mode, per example [N]; undefined when its weight is 0.
  const Tensor& geodesic_energy() const { return geodesic_; }
  const Tensor& inverse_consistency() const { return consistency_; }
  // The weighted sum of the last training forward's regularisers, [N], and forgets
  // them (undefined when there are none).
  Tensor take_regularisation() override;
  LipschitzNetwork& velocity() { return *velocity_; }

 private:
  // forward (direction 1) or inverse (-1): the Euler steps with their log-determinant.
  TransformResult flow(const Tensor& x, const Tensor& context, double direction);
  Tensor integrate(const Tensor& x, double direction, Tensor* logdet, Tensor* energy);
  std::shared_ptr<LipschitzNetwork> velocity_;
  DiffeomorphicOptions options_;
  std::string label_;
  Tensor geodesic_, consistency_;
};

}  // namespace ft::layers::flows
