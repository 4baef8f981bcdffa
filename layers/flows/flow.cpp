#include "layers/flows/flow.h"

#include "framework/ops/ops.h"

namespace ft::layers::flows {

Flow::Flow(std::shared_ptr<Transform> transform, std::shared_ptr<Distribution> distribution)
    : transform_(std::move(transform)), distribution_(std::move(distribution)) {
  register_module("transform", transform_);
  register_module("distribution", distribution_);
}

Tensor Flow::log_prob(const Tensor& x, const Tensor& context) {
  TransformResult r = transform_->forward(x, context);
  return add(distribution_->log_prob(r.y, context), r.logabsdet);
}

Tensor Flow::sample(int64_t n, const Tensor& context, Generator& gen) { return sample_and_log_prob(n, context, gen).x; }

SampleAndLogProb Flow::sample_and_log_prob(int64_t n, const Tensor& context, Generator& gen) {
  Tensor repeated = context.defined() ? repeat_rows(context, n) : Tensor();
  Tensor noise = distribution_->sample(n, context, gen);
  Tensor noise_log_prob = distribution_->log_prob(noise, repeated);
  TransformResult r = transform_->inverse(noise, repeated);
  // log p(x) = log p(z) - log|det dx/dz|.
  return {r.y, sub(noise_log_prob, r.logabsdet)};
}

Tensor Flow::transform_to_noise(const Tensor& x, const Tensor& context) { return transform_->forward(x, context).y; }

}  // namespace ft::layers::flows
