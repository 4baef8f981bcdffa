#include "layers/glow/glow.h"

#include <fmt/core.h>

#include "framework/autograd/grad_mode.h"
#include "framework/ops/ops.h"

namespace ft::layers {

Glow::Glow(const GlowConfig& config, Generator& gen) : config_(config) {
  config_.validate();
  int64_t channels = config.channels * 4, size = config.image_size / 2;
  for (int64_t i = 0; i < config.levels; ++i) {
    Level level;
    level.channels = channels;
    level.size = size;
    for (int64_t k = 0; k < config.depth; ++k)
      level.steps.push_back(
          register_module(fmt::format("levels.{}.steps.{}", i, k), std::make_shared<FlowStep>(channels, config, gen)));
    if (i + 1 < config.levels) {
      level.split = register_module(fmt::format("levels.{}.split_prior", i), std::make_shared<SplitPrior>(channels / 2));
      channels *= 2;  // half kept, then squeezed: C/2 * 4
      size /= 2;
    }
    levels_.push_back(std::move(level));
  }
  top_prior_ = register_module("top_prior", std::make_shared<TopPrior>(channels, config.learn_top, config.num_classes, gen));
}

ModelOutput Glow::forward(const Tensor& x, const Tensor& labels) {
  Shape expected{x.size(0), config_.channels, config_.image_size, config_.image_size};
  FT_CHECK(x.shape() == expected, "Glow expects images {} but got {}", shape_str(expected), shape_str(x.shape()));
  ModelOutput out;
  Tensor z = squeeze_.forward(x).y;
  Tensor log_prob = Tensor::zeros({x.size(0)}, x.dtype(), x.device());
  for (Level& level : levels_) {
    for (auto& step : level.steps) {
      FlowResult r = step->forward(z);
      z = r.y;
      log_prob = add(log_prob, r.logdet);
    }
    if (!level.split) break;
    auto halves = chunk(z, 2, 1);
    GaussianParams prior = level.split->forward(halves[0]);
    log_prob = add(log_prob, gaussian_log_prob(halves[1], prior.mean, prior.logs));
    out.latents.push_back(mul(sub(halves[1], prior.mean), exp(neg(prior.logs))));
    z = squeeze_.forward(halves[0]).y;
  }
  GaussianParams top = top_prior_->forward(z.size(0), z.size(2), z.size(3), labels, z.dtype(), z.device());
  log_prob = add(log_prob, gaussian_log_prob(z, top.mean, top.logs));
  out.latents.push_back(mul(sub(z, top.mean), exp(neg(top.logs))));
  out.log_prob = log_prob;
  return out;
}

Tensor Glow::reconstruct(const std::vector<Tensor>& latents, const Tensor& labels) {
  FT_CHECK(latents.size() == levels_.size(), "Glow of {} levels needs {} latents, got {}", levels_.size(),
           levels_.size(), latents.size());
  const Tensor& top_noise = latents.back();
  int64_t n = top_noise.size(0);
  GaussianParams top =
      top_prior_->forward(n, top_noise.size(2), top_noise.size(3), labels, top_noise.dtype(), top_noise.device());
  Tensor z = add(top.mean, mul(exp(top.logs), top_noise));
  for (size_t i = levels_.size(); i-- > 0;) {
    Level& level = levels_[i];
    if (level.split) {
      Tensor kept = squeeze_.inverse(z);
      GaussianParams prior = level.split->forward(kept);
      z = concat({kept, add(prior.mean, mul(exp(prior.logs), latents[i]))}, 1);
    }
    for (size_t k = level.steps.size(); k-- > 0;) z = level.steps[k]->inverse(z);
  }
  return squeeze_.inverse(z);
}

Tensor Glow::sample(int64_t n, const SampleOptions& options, Generator& gen) {
  NoGradGuard no_grad;
  const Tensor& reference = levels_.front().steps.front()->actnorm->logs;
  std::vector<Tensor> latents;
  for (const Level& level : levels_) {
    int64_t c = level.split ? level.channels / 2 : level.channels;
    latents.push_back(
        normal({n, c, level.size, level.size}, 0.0, options.temperature, gen, reference.dtype()).to(reference.device()));
  }
  Tensor x = reconstruct(latents, options.labels);
  if (options.progress) options.progress(1, 1);
  return x;
}

void Glow::set_statistics_averager(const StatisticsAverager& averager, int64_t replicas) {
  (void)replicas;  // ActNorm averages means of equal-sized batches
  for (auto& a : actnorms()) a->set_statistics_averager(averager);
}

std::vector<std::shared_ptr<ActNorm>> Glow::actnorms() const {
  std::vector<std::shared_ptr<ActNorm>> out;
  for (const Level& level : levels_)
    for (const auto& step : level.steps) {
      out.push_back(step->actnorm);
      out.push_back(step->coupling->network->norm1);
      out.push_back(step->coupling->network->norm2);
    }
  return out;
}

nlohmann::json Glow::summary() const {
  nlohmann::json levels = nlohmann::json::array();
  for (const Level& level : levels_)
    levels.push_back({{"channels", level.channels}, {"size", level.size}, {"steps", level.steps.size()},
                      {"split", level.split != nullptr}});
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
