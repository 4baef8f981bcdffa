#include "layers/glow/glow.h"

#include <fmt/core.h>

#include "framework/autograd/grad_mode.h"
#include "framework/ops/ops.h"
#include "layers/flows/flow_layer_transform.h"
#include "layers/glow/flow_step.h"
#include "layers/glow/priors.h"
#include "layers/glow/squeeze.h"

namespace ft::layers {

namespace {

// What level i's steps see: [4C * 2^i, S / 2^(i+1), S / 2^(i+1)] (each split keeps
// half of the channels, which the next squeeze multiplies by 4).
Shape level_shape(const GlowConfig& config, int64_t level) {
  int64_t size = config.image_size >> (level + 1);
  return {config.channels * (int64_t(4) << level), size, size};
}

// Level i: a squeeze, then `depth` flow steps, registered as "squeeze" and
// "steps.{k}" with each step's own names beneath.
flows::MultiscaleLevel glow_level(const GlowConfig& config, int64_t level, Generator& gen) {
  Shape shape = level_shape(config, level);
  flows::NamedTransforms steps{
      {"squeeze", std::make_shared<flows::FlowLayerTransform>(std::make_shared<Squeeze>())}};
  for (int64_t k = 0; k < config.depth; ++k)
    steps.emplace_back(fmt::format("steps.{}", k), std::make_shared<flows::FlowLayerTransform>(
                                                       std::make_shared<FlowStep>(shape[0], config, gen), ""));
  return {std::make_shared<flows::CompositeTransform>(steps), shape};
}

}  // namespace

Glow::Glow(const GlowConfig& config, Generator& gen) : config_(config) {
  config_.validate();
  std::vector<flows::MultiscaleLevel> levels;
  for (int64_t i = 0; i < config_.levels; ++i) {
    levels.push_back(glow_level(config_, i, gen));
    level_steps_.push_back(std::static_pointer_cast<flows::CompositeTransform>(levels.back().transform));
  }
  transform_ = std::make_shared<flows::MultiscaleTransform>(
      data_shape(), std::move(levels), flows::MultiscalePrior::learned, flows::MultiscalePrior::learned, gen,
      flows::LearnedTopOptions{config_.learn_top, config_.num_classes});
  register_module("", transform_);  // the parameters keep Glow's names
  base_ = std::make_shared<flows::StandardNormal>(transform_->features());
}

Tensor Glow::context_of(const Tensor& labels, int64_t rows, DType dtype) const {
  if (config_.num_classes == 0) return Tensor();
  FT_CHECK(labels.defined() && labels.numel() == rows, "a class-conditional Glow needs {} labels, got {}", rows,
           labels.defined() ? labels.numel() : 0);
  return one_hot(labels, config_.num_classes, dtype);
}

ModelOutput Glow::forward(const Tensor& x, const Tensor& labels) {
  Shape expected{x.size(0), config_.channels, config_.image_size, config_.image_size};
  FT_CHECK(x.shape() == expected, "Glow expects images {} but got {}", shape_str(expected), shape_str(x.shape()));
  flows::TransformResult r = transform_->forward(x, context_of(labels, x.size(0), x.dtype()));
  return {add(base_->log_prob(r.y, Tensor()), r.logabsdet), transform_->split_output(r.y)};
}

Tensor Glow::reconstruct(const std::vector<Tensor>& latents, const Tensor& labels) {
  FT_CHECK(latents.size() == transform_->level_count(), "Glow of {} levels needs {} latents, got {}",
           transform_->level_count(), transform_->level_count(), latents.size());
  Tensor z = transform_->join_output(latents);
  return transform_->inverse(z, context_of(labels, z.size(0), z.dtype())).y;
}

Tensor Glow::sample(int64_t n, const SampleOptions& options, Generator& gen) {
  NoGradGuard no_grad;
  const Tensor& reference = actnorms().front()->logs;
  // One draw per level, in level order (not one [n, D] draw): the stream of samples
  // saved before Glow was a multiscale flow.
  std::vector<Tensor> latents;
  for (size_t i = 0; i < transform_->level_count(); ++i) {
    Shape part = transform_->output_part(i);
    latents.push_back(normal({n, part[0], part[1], part[2]}, 0.0, options.temperature, gen, reference.dtype())
                          .to(reference.device()));
  }
  Tensor x = reconstruct(latents, options.labels);
  if (options.progress) options.progress(1, 1);
  return x;
}

bool Glow::set_recompute(bool enabled) {
  for (auto& steps : level_steps_) steps->set_recompute(enabled);
  return true;
}

void Glow::set_statistics_averager(const StatisticsAverager& averager, int64_t replicas) {
  (void)replicas;  // ActNorm averages means of equal-sized batches
  for (auto& a : actnorms()) a->set_statistics_averager(averager);
}

std::vector<std::shared_ptr<ActNorm>> Glow::actnorms() const { return find_modules<ActNorm>(); }

nlohmann::json Glow::summary() const {
  nlohmann::json levels = nlohmann::json::array();
  for (int64_t i = 0; i < config_.levels; ++i) {
    Shape shape = level_shape(config_, i);
    levels.push_back(
        {{"channels", shape[0]}, {"size", shape[1]}, {"steps", config_.depth}, {"split", i + 1 < config_.levels}});
  }
  return {{"kind", "glow"},
          {"channels", config_.channels},
          {"image_size", config_.image_size},
          {"levels", config_.levels},
          {"depth", config_.depth},
          {"width", config_.width},
          {"coupling", coupling_name(config_.coupling)},
          {"permutation", permutation_name(config_.permutation)},
          {"n_bits", config_.n_bits},
          {"learn_top", config_.learn_top},
          {"num_classes", config_.num_classes},
          {"parameter_count", parameter_count()},
          {"level_shapes", levels}};
}

}  // namespace ft::layers
