#pragma once
#include <memory>
#include <vector>

#include "layers/flow_model.h"
#include "layers/glow/flow_step.h"
#include "layers/glow/glow_config.h"
#include "layers/glow/priors.h"
#include "layers/glow/squeeze.h"

namespace ft::layers {

// Glow: squeeze, then L levels of K flow steps; between levels half of the
// channels is split off under a learned Gaussian prior and the rest squeezed;
// a learned (optionally class-conditional) Gaussian prior at the top.
// Latents are the standardised noise of every split and of the top, in that
// order, so reconstruct() inverts forward() exactly and sample() draws them.
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

  // Data-parallel ActNorm initialisation: statistics averaged over replicas.
  void set_statistics_averager(const StatisticsAverager& averager, int64_t replicas) override;
  std::vector<std::shared_ptr<ActNorm>> actnorms() const;

 private:
  struct Level {
    std::vector<std::shared_ptr<FlowStep>> steps;
    std::shared_ptr<SplitPrior> split;  // null at the top level
    int64_t channels, size;             // of the level's input
  };
  GlowConfig config_;
  Squeeze squeeze_;
  std::vector<Level> levels_;
  std::shared_ptr<TopPrior> top_prior_;
};

}  // namespace ft::layers
