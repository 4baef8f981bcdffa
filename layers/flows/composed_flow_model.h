// A Flow of this library (transform + base distribution) as a trainable FlowModel:
// what `model.kind = "flow"` builds. The trainer, eval, sample, checkpoints and data
// parallelism see it through layers/flow_model.h like Glow and TARFLOW.
//   - Vector data [N, D] goes to the transform as it is; images [N, C, H, W] go either
//     as images (image transforms: couplings with masks, multiscale) or flattened to
//     [N, C*H*W] (vector transforms on images, as NICE and MAF on MNIST).
//   - Class labels become the context one_hot(label) [N, num_classes] of every
//     conditional transform and of a conditional base.
//   - The only latent is the transform's output z; reconstruct inverts it.
//   - Sampling at temperature T draws T * z from a standard base (T = 1 for others).
//   - With a variational dequantizer (Flow++), images arrive as their bins' corners
//     p / 256; forward draws u ~ q(u | p) from the forward stream (per example, so at
//     any world size alike), models x = (p + u) / 256 and returns the bound
//     log p(x) - log q(u | p). Its latent, and so reconstruct, is that of x.
//   - Stochastic transforms (residual blocks, DDNF, continuous flows:
//     stochastic_transform.h) draw their probes from the forward stream too: the i-th
//     of them (in module order) from stream + (i + 1) << 53, above the bits the
//     trainer's stream ids use, at the same per-example offset.
//   - Transforms with loss terms of their own (Transform::take_regularisation: RNODE's
//     kinetic-energy and Jacobian-norm integrals, cnf.h; DDNF's geodesic and
//     inverse-consistency terms, ddnf.h): in training, forward's log_prob is log p(x)
//     minus each example's weighted terms, so the trainer's loss -mean(log_prob) / dims
//     is e.g. RNODE's (NLL + lambda_K K + lambda_J J) / dims; in eval mode log_prob is
//     exact.
//   - step_statistics(): with continuous flows, nfe_forward (evaluations of f in the
//     last forward, summed over the blocks), nfe_backward (of the adjoint systems,
//     with adjoint blocks) and, when integrated, the batch means kinetic_energy and
//     jacobian_norm (summed over the blocks).
#pragma once
#include <memory>

#include "layers/flow_model.h"
#include "layers/flows/distribution.h"
#include "layers/flows/flowpp_dequantizer.h"
#include "layers/flows/transform.h"

namespace ft::layers::flows {

struct ComposedFlowOptions {
  Shape data_shape;     // one example: {D} or {C, H, W}
  bool flatten = false;  // images reach the transform as [N, C*H*W]
  Shape latent_shape;   // one example of the transform's output (the base sees it flattened)
  int64_t num_classes = 0;
  DataScaling scaling;
  nlohmann::json description;  // the configuration the model was built from (summary())
};

class ComposedFlowModel : public FlowModel {
 public:
  ComposedFlowModel(std::shared_ptr<Transform> transform, std::shared_ptr<Distribution> base,
                    ComposedFlowOptions options, std::shared_ptr<VariationalDequantizer> dequantizer = nullptr);
  ModelOutput forward(const Tensor& x, const Tensor& labels) override;
  Tensor reconstruct(const std::vector<Tensor>& latents, const Tensor& labels) override;
  Tensor sample(int64_t n, const SampleOptions& options, Generator& gen) override;
  Shape data_shape() const override { return options_.data_shape; }
  DataScaling scaling() const override { return options_.scaling; }
  nlohmann::json summary() const override;
  void set_statistics_averager(const StatisticsAverager& averager, int64_t replicas) override;
  // Also hands each stochastic transform a stream of its own (stochastic_transform.h).
  void set_forward_generator(const Generator& gen) override;
  nlohmann::json step_statistics() const override;
  bool learns_dequantization() const override { return dequantizer_ != nullptr; }
  Transform& transform() { return *transform_; }
  Distribution& base() { return *base_; }

 private:
  Tensor context_of(const Tensor& labels, int64_t rows, DType dtype, Device device) const;
  Tensor to_transform_input(const Tensor& x) const;
  Tensor to_data(const Tensor& transform_input) const;
  // x + u / 256 with u ~ q(u | pixels) and log q(u | pixels), x being bin corners p / 256.
  std::pair<Tensor, Tensor> dequantize(const Tensor& x);
  // The continuous flows' weighted RNODE terms of this forward, [N] (undefined: none).
  Tensor regularisation();
  std::shared_ptr<Transform> transform_;
  std::shared_ptr<Distribution> base_;
  ComposedFlowOptions options_;
  std::shared_ptr<VariationalDequantizer> dequantizer_;  // null: the data come dequantized
  Generator forward_gen_;
};

}  // namespace ft::layers::flows
