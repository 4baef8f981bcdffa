#pragma once
#include <memory>
#include <vector>

#include "layers/flow_model.h"
#include "layers/flows/distribution.h"
#include "layers/flows/multiscale.h"
#include "layers/glow/actnorm.h"
#include "layers/glow/glow_config.h"

namespace ft::layers {

// Glow as a flow of the flows library: a MultiscaleTransform whose level i is a
// squeeze and K FlowSteps, with Glow's learned split priors and its (optionally
// class-conditional, labels as one-hot context) top prior as whitening, over a
// StandardNormal base. log p(x) = log N(z; 0, I) + log|det dz/dx| with z the
// transform's output, which equals Glow's sum of Gaussian priors and log-determinants.
// Latents are z split per level (the standardised noise of every split and of the
// top, in that order, as images), so reconstruct() inverts forward() exactly and
// sample() draws them. Parameters keep Glow's names: levels.{i}.steps.{k}...,
// levels.{i}.split_prior..., top_prior...
class Glow : public FlowModel {
 public:
  Glow(const GlowConfig& config, Generator& gen);
  ModelOutput forward(const Tensor& x, const Tensor& labels) override;
  Tensor reconstruct(const std::vector<Tensor>& latents, const Tensor& labels) override;
  Tensor sample(int64_t n, const SampleOptions& options, Generator& gen) override;
  Shape data_shape() const override { return {config_.channels, config_.image_size, config_.image_size}; }
  DataScaling scaling() const override { return glow_scaling(config_.n_bits); }
  nlohmann::json summary() const override;
  const GlowConfig& config() const { return config_; }
  flows::MultiscaleTransform& transform() { return *transform_; }

  // Data-parallel ActNorm initialisation: statistics averaged over replicas.
  void set_statistics_averager(const StatisticsAverager& averager, int64_t replicas) override;
  bool set_recompute(bool enabled) override;
  std::vector<std::shared_ptr<ActNorm>> actnorms() const;

 private:
  // The context of the top prior: one-hot labels [rows, num_classes], or undefined
  // for an unconditional Glow (which ignores labels).
  Tensor context_of(const Tensor& labels, int64_t rows, DType dtype) const;
  GlowConfig config_;
  std::shared_ptr<flows::MultiscaleTransform> transform_;
  std::vector<std::shared_ptr<flows::CompositeTransform>> level_steps_;  // each level's squeeze and steps
  std::shared_ptr<flows::StandardNormal> base_;
};

}  // namespace ft::layers
