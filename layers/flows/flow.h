// Flow(transform, distribution) as nflows: log p(x | c) = log p_base(z | c) + log|det dz/dx|
// with (z, logabsdet) = transform.forward(x, c); sampling runs transform.inverse.
#pragma once
#include <memory>

#include "layers/flows/distribution.h"
#include "layers/flows/transform.h"

namespace ft::layers::flows {

struct SampleAndLogProb {
  Tensor x;         // [n (* context rows), D]
  Tensor log_prob;  // [n (* context rows)]
};

class Flow : public nn::Module {
 public:
  Flow(std::shared_ptr<Transform> transform, std::shared_ptr<Distribution> distribution);
  Tensor log_prob(const Tensor& x, const Tensor& context = Tensor());
  // n samples, or n per context row (as Distribution::sample).
  Tensor sample(int64_t n, const Tensor& context, Generator& gen);
  SampleAndLogProb sample_and_log_prob(int64_t n, const Tensor& context, Generator& gen);
  Tensor transform_to_noise(const Tensor& x, const Tensor& context = Tensor());

 private:
  std::shared_ptr<Transform> transform_;
  std::shared_ptr<Distribution> distribution_;
};

}  // namespace ft::layers::flows
