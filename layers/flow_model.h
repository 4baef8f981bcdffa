// A generative flow model over images ([N, C, H, W]) or vectors ([N, D]) in model
// space (see DataScaling): exact log-likelihoods per example, exact inversion,
// sampling. The trainer talks to every model through this interface alone: the
// hooks below are how a model asks for what only the trainer has (the data-parallel
// statistics averager, per-example random streams).
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "framework/nn/module.h"
#include "framework/random/generator.h"
#include "layers/autoregressive_inversion.h"
#include "layers/flow.h"
#include "layers/likelihood.h"

namespace ft::layers {

struct ModelOutput {
  Tensor log_prob;              // [N]: log p(x) in model space (prior + log-determinants)
  std::vector<Tensor> latents;  // everything needed to invert exactly (model specific order)
};

struct SampleOptions {
  double temperature = 1.0;      // scales prior noise
  Tensor labels;                 // i64 [N] class labels for conditional models; undefined: none
  double guidance = 0.0;         // classifier-free guidance weight (TARFLOW)
  double attention_temperature = 1.0;  // guidance of unconditional TARFLOW models
  bool denoise = true;           // TARFLOW: one score step x + sigma^2 grad log p(x)
  AutoregressiveInversion inversion;  // TARFLOW: sequential or Jacobi windows
  // Called as sampling advances, for a progress line (set: the caller's business).
  // TARFLOW counts each token of each block plus the denoising step, so a long
  // single batch reports; Glow decodes in one pass and reports (1, 1) at the end.
  std::function<void(int64_t done, int64_t total)> progress;
};

class FlowModel : public nn::Module {
 public:
  // x in model space; labels i64 [N] for class-conditional models (else undefined).
  virtual ModelOutput forward(const Tensor& x, const Tensor& labels) = 0;
  // Exact inverse of forward given all its latents.
  virtual Tensor reconstruct(const std::vector<Tensor>& latents, const Tensor& labels) = 0;
  virtual Tensor sample(int64_t n, const SampleOptions& options, Generator& gen) = 0;
  virtual Shape data_shape() const = 0;  // one example: {C, H, W} for images, {D} for vectors
  virtual DataScaling scaling() const = 0;
  virtual nlohmann::json summary() const = 0;  // kind, hyperparameters, parameter count, layers
  // Batch statistics shared by the data-parallel replicas (ActNorm's data-dependent
  // initialisation, synchronised batch norm) are averaged across them with this;
  // `replicas` counts them. Without it (tests, tools) each process is alone.
  virtual void set_statistics_averager(const StatisticsAverager&, int64_t replicas) { (void)replicas; }
  // The random stream of this step's forward (TARFLOW's label dropout). Its offset is the epoch position of this rank's first example:
  // a model that draws k values per example starts at offset * k, so each example
  // gets the same draws at any world size and after a resume.
  virtual void set_forward_generator(const Generator&) {}
  // True when the model dequantizes the pixels itself (Flow++'s variational
  // dequantization): the data then arrive as the corners of their bins, p / 256, and
  // forward's log_prob is the bound log p(x + u) - log q(u | x) with u drawn from the
  // forward stream, which bits per dimension read like an exact log-likelihood.
  virtual bool learns_dequantization() const { return false; }
  // Numbers that describe the last training step's forward and backward beyond the
  // loss (the solver's evaluations of a continuous flow), as a flat JSON object of
  // numbers; the same keys on every replica of a model. The trainer averages them
  // over the ranks, keeps each rank's value too, and logs both. Empty: none.
  virtual nlohmann::json step_statistics() const { return nlohmann::json::object(); }
  // Activation recomputation in training forwards (framework/autograd/recompute.h),
  // per TARFLOW block and per Glow step: their activations are not kept for
  // backward, which runs each once more. Returns false when the model has none.
  virtual bool set_recompute(bool enabled) { return !enabled; }
  bool is_image_model() const { return data_shape().size() == 3; }
  int64_t dims() const {
    int64_t n = 1;
    for (int64_t d : data_shape()) n *= d;
    return n;
  }
};

}  // namespace ft::layers
