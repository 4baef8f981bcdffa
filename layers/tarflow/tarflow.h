// TARFLOW (Zhai et al. 2024, "Normalizing Flows are Capable Generative Models"),
// with apple/ml-tarflow's semantics: patchify, `blocks` TarflowBlocks alternating
// identity and reversed token order, a standard normal prior over the final
// tokens. As a flow of the flows library: Composite(PatchifyTransform,
// TarflowBlockTransform...) over StandardNormal(T*C*P*P), labels as the one-hot
// context (tarflow_transforms.h); parameters keep their names blocks.{b}... Loss per dimension 0.5*mean(z^2) - mean(logdet)/D; sampling inverts the
// blocks token by token with a KV cache, optionally with classifier-free guidance,
// then (for Gaussian-noise models) takes one denoising score step.
#pragma once
#include <memory>
#include <vector>

#include "layers/flow_model.h"
#include "layers/flows/distribution.h"
#include "layers/flows/transform.h"
#include "layers/tarflow/tarflow_block.h"
#include "layers/tarflow/tarflow_config.h"

namespace ft::layers {

// The flow's output in token form.
struct TarflowTransform {
  Tensor z;       // [N, T, C*P*P]
  Tensor logdet;  // [N], sum over blocks (a full log-determinant, not per dimension)
};

class Tarflow : public FlowModel {
 public:
  // Validates the config (ft::Error naming the bad field); parameters drawn from gen.
  Tarflow(const TarflowConfig& config, Generator& gen);

  // x in model space [N, C, H, W] (pixel/127.5 - 1 plus noise). latents = {z [N, T, C*P*P]}.
  // In training mode, conditional models replace each label by "no label" with
  // probability label_dropout, drawing from the label dropout generator.
  ModelOutput forward(const Tensor& x, const Tensor& labels) override;
  // ml-tarflow's Model.forward: z and the summed log-determinant (label dropout as above).
  TarflowTransform transform(const Tensor& x, const Tensor& labels);
  // ml-tarflow's get_loss: 0.5*mean(z^2) - mean(logdet)/D with D = T*C*P*P. Equals
  // -mean(log p(x))/D - 0.5*log(2*pi).
  static Tensor loss(const Tensor& z, const Tensor& logdet);

  Tensor reconstruct(const std::vector<Tensor>& latents, const Tensor& labels) override;
  // z ~ N(0, temperature^2), blocks inverted in reverse order, then the denoising step
  // x + noise_std^2 * grad_x log p(x) when noise_std > 0 and options.denoise.
  Tensor sample(int64_t n, const SampleOptions& options, Generator& gen) override;
  // ml-tarflow's Model.reverse: tokens z -> image, no denoising.
  Tensor reverse(const Tensor& z, const Tensor& labels, const InverseOptions& options = {});
  // One score step x + noise_std^2 * grad_x log p(x | labels); no parameter gradients.
  Tensor denoise(const Tensor& x, const Tensor& labels);

  Shape data_shape() const override;
  DataScaling scaling() const override { return tarflow_scaling(); }
  nlohmann::json summary() const override;
  const TarflowConfig& config() const { return config_; }

  // Label dropout draws one uniform per example from this stream (deterministic;
  // save and restore it with the trainer's RNG state).
  void set_forward_generator(const Generator& gen) override { label_gen_ = gen; }
  bool set_recompute(bool enabled) override;
  const Generator& label_dropout_generator() const { return label_gen_; }

  std::vector<std::shared_ptr<TarflowBlock>> blocks;

 private:
  Tensor block_labels(const Tensor& labels) const;  // undefined for unconditional models
  Tensor drop_labels(const Tensor& labels);
  TarflowTransform run_blocks(const Tensor& x, const Tensor& labels);
  Tensor log_prob(const TarflowTransform& t) const;  // the base's log-density of z plus the log-determinant

  TarflowConfig config_;
  Generator label_gen_;
  std::shared_ptr<flows::CompositeTransform> transform_;
  std::shared_ptr<flows::StandardNormal> base_;
};

// Rebinds every parameter of module to a copy in dtype (a leaf that requires grad),
// e.g. f64 for exact inversion and Jacobian checks.
void cast_parameters(nn::Module& module, DType dtype);

}  // namespace ft::layers
