#include "layers/tarflow/tarflow.h"

#include <string>
#include <utility>

#include "framework/autograd/grad.h"
#include "framework/autograd/grad_mode.h"
#include "framework/ops/ops.h"
#include "layers/tarflow/patchify.h"
#include "layers/tarflow/tarflow_transforms.h"

namespace ft::layers {

namespace {

// Label dropout's default stream when the trainer sets none ("tarflow labels").
constexpr uint64_t kLabelDropoutStream = 0x7461726c61626c73ULL;

// Stops parameters from requiring grad for a scope, so the blocks record no weight
// gradients and an input gradient taken through them forms none.
class FreezeParameters {
 public:
  explicit FreezeParameters(nn::Module& module) {
    for (auto& [name, slot] : module.parameter_slots()) {
      frozen_.emplace_back(slot, slot->requires_grad());
      slot->set_requires_grad(false);
    }
  }
  ~FreezeParameters() {
    for (auto& [slot, required] : frozen_) slot->set_requires_grad(required);
  }
  FreezeParameters(const FreezeParameters&) = delete;
  FreezeParameters& operator=(const FreezeParameters&) = delete;

 private:
  std::vector<std::pair<Tensor*, bool>> frozen_;
};

}  // namespace

Tarflow::Tarflow(const TarflowConfig& config, Generator& gen)
    : config_(config), label_gen_(0, kLabelDropoutStream) {
  config_.validate();
  flows::NamedTransforms steps{
      {"patchify", std::make_shared<PatchifyTransform>(config_.channels, config_.image_size, config_.patch_size)}};
  for (int64_t b = 0; b < config_.blocks; ++b) {
    TarflowBlockConfig bc;
    bc.tokens = config_.tokens();
    bc.token_dim = config_.token_dim();
    bc.width = config_.width;
    bc.layers = config_.layers_per_block;
    bc.head_dim = config_.head_dim;
    bc.num_classes = config_.num_classes;
    bc.reverse_order = b % 2 == 1;
    blocks.push_back(std::make_shared<TarflowBlock>(bc, gen));
    steps.emplace_back("blocks." + std::to_string(b), std::make_shared<TarflowBlockTransform>(blocks.back()));
  }
  transform_ = register_module("", std::make_shared<flows::CompositeTransform>(steps));  // names stay blocks.{b}...
  base_ = std::make_shared<flows::StandardNormal>(config_.tokens() * config_.token_dim());
}

bool Tarflow::set_recompute(bool enabled) {
  transform_->set_recompute(enabled);
  return true;
}

Shape Tarflow::data_shape() const { return {config_.channels, config_.image_size, config_.image_size}; }

Tensor Tarflow::block_labels(const Tensor& labels) const {
  // Unconditional models ignore labels, so a trainer can pass a dataset's labels to any model.
  return config_.num_classes > 0 ? labels : Tensor();
}

Tensor Tarflow::drop_labels(const Tensor& labels) {
  if (!training() || !labels.defined() || config_.label_dropout == 0.0) return labels;
  FT_CHECK(labels.dtype() == DType::i64, "labels must be i64, got {}", dtype_name(labels.dtype()));
  std::vector<int64_t> values = labels.to_vector<int64_t>();
  // One draw per example whatever the outcome, so the stream position depends only on N.
  for (int64_t& v : values)
    if (label_gen_.next_unit() < config_.label_dropout) v = -1;
  return Tensor::from_vector(values, labels.shape()).to(labels.device());
}

TarflowTransform Tarflow::run_blocks(const Tensor& x, const Tensor& labels) {
  flows::TransformResult r = transform_->forward(x, label_context(labels, config_.num_classes, x.dtype()));
  return {r.y, r.logabsdet};
}

Tensor Tarflow::log_prob(const TarflowTransform& t) const {
  return add(base_->log_prob(t.z.reshape({t.z.size(0), -1}), Tensor()), t.logdet);
}

TarflowTransform Tarflow::transform(const Tensor& x, const Tensor& labels) {
  return run_blocks(x, drop_labels(block_labels(labels)));
}

ModelOutput Tarflow::forward(const Tensor& x, const Tensor& labels) {
  TarflowTransform t = transform(x, labels);
  return {log_prob(t), {t.z}};
}

Tensor Tarflow::loss(const Tensor& z, const Tensor& logdet) {
  double dims = double(z.numel() / z.size(0));
  return sub(mul(mean(square(z)), 0.5), mul(mean(logdet), 1.0 / dims));
}

Tensor Tarflow::reverse(const Tensor& z, const Tensor& labels, const InverseOptions& options) {
  Tensor bl = block_labels(labels);
  Tensor x = z;
  for (size_t b = blocks.size(); b-- > 0;) {
    try {
      x = blocks[b]->inverse(x, bl, options);
    } catch (const Error& e) {
      FT_FAIL("blocks.{}: {}", b, e.what());  // which block did not converge
    }
  }
  return unpatchify(x, config_.channels, config_.image_size, config_.patch_size);
}

Tensor Tarflow::reconstruct(const std::vector<Tensor>& latents, const Tensor& labels) {
  FT_CHECK(latents.size() == 1, "tarflow has one latent (z), got {}", latents.size());
  return reverse(latents[0], labels);
}

Tensor Tarflow::denoise(const Tensor& x, const Tensor& labels) {
  Tensor grad;
  {
    FreezeParameters frozen(*this);
    GradModeGuard enable_grad(true);
    Tensor xg = x.detach().clone();
    xg.set_requires_grad(true);
    TarflowTransform t = run_blocks(xg, block_labels(labels));
    // Summing over the batch leaves each example's gradient its own.
    grad = ft::grad({sum(log_prob(t))}, {xg})[0];
  }
  NoGradGuard no_grad;
  return add(x.detach(), mul(grad, config_.noise_std * config_.noise_std));
}

Tensor Tarflow::sample(int64_t n, const SampleOptions& options, Generator& gen) {
  FT_CHECK(n > 0, "sample count {} must be positive", n);
  FT_CHECK(!options.labels.defined() || (options.labels.dim() == 1 && options.labels.size(0) == n),
           "{} sample labels for {} samples", options.labels.defined() ? options.labels.numel() : 0, n);
  const Tensor& reference = blocks.front()->pos_embed;  // the parameters' dtype and device
  Tensor z = normal({n, config_.tokens(), config_.token_dim()}, 0.0, options.temperature, gen, reference.dtype())
                 .to(reference.device());
  const bool denoising = config_.noise_std > 0.0 && options.denoise;
  // Token 0 of each block passes through; every other token is one step.
  const int64_t steps = int64_t(blocks.size()) * (config_.tokens() - 1) + (denoising ? 1 : 0);
  int64_t done = 0;
  auto step_done = [&] {
    if (options.progress) options.progress(++done, steps);
  };
  InverseOptions inverse_options;
  inverse_options.guidance = options.guidance;
  inverse_options.attention_temperature = options.attention_temperature;
  inverse_options.inversion = options.inversion;
  inverse_options.on_token = step_done;
  Tensor x = reverse(z, options.labels, inverse_options);
  if (denoising) {
    x = denoise(x, options.labels);
    step_done();
  }
  return x;
}

nlohmann::json Tarflow::summary() const {
  nlohmann::json layers = nlohmann::json::array();
  for (size_t b = 0; b < blocks.size(); ++b) {
    layers.push_back({{"name", "blocks." + std::to_string(b)},
                      {"kind", blocks[b]->kind()},
                      {"permutation", blocks[b]->config().reverse_order ? "reverse" : "identity"},
                      {"parameter_count", blocks[b]->parameter_count()}});
  }
  return {{"kind", "tarflow"},
          {"channels", config_.channels},
          {"image_size", config_.image_size},
          {"patch_size", config_.patch_size},
          {"width", config_.width},
          {"blocks", config_.blocks},
          {"layers_per_block", config_.layers_per_block},
          {"head_dim", config_.head_dim},
          {"num_classes", config_.num_classes},
          {"noise_std", config_.noise_std},
          {"dequantization", config_.dequantization},
          {"label_dropout", config_.label_dropout},
          {"tokens", config_.tokens()},
          {"token_dim", config_.token_dim()},
          {"parameter_count", parameter_count()},
          {"layers", layers}};
}

void cast_parameters(nn::Module& module, DType dtype) {
  for (auto& [name, slot] : module.parameter_slots()) {
    if (slot->dtype() == dtype) continue;
    *slot = slot->detach().to(dtype);
    slot->set_requires_grad(true);
  }
}

}  // namespace ft::layers
