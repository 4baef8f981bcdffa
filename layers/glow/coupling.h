#pragma once
#include <memory>

#include "framework/nn/conv2d.h"
#include "framework/random/generator.h"
#include "layers/flow.h"
#include "layers/glow/actnorm.h"
#include "layers/glow/conv2d_zeros.h"
#include "layers/glow/glow_config.h"

namespace ft::layers {

// NN of the coupling: conv3x3(width, no bias) -> ActNorm -> ReLU ->
// conv1x1(width, no bias) -> ActNorm -> ReLU -> Conv2dZeros(out).
class CouplingNetwork : public nn::Module {
 public:
  CouplingNetwork(int64_t in_channels, int64_t width, int64_t out_channels, Generator& gen);
  Tensor forward(const Tensor& x) const;
  std::shared_ptr<nn::Conv2d> conv1, conv2;
  std::shared_ptr<ActNorm> norm1, norm2;
  std::shared_ptr<Conv2dZeros> out;
};

// Splits channels into halves xa, xb; xa passes through, xb is transformed by
// h = NN(xa). Affine: shift = h[:, 0::2], scale = sigmoid(h[:, 1::2] + 2),
// yb = (xb + shift) * scale. Additive: yb = xb + h.
class CouplingLayer : public FlowLayer {
 public:
  CouplingLayer(int64_t channels, int64_t width, Coupling type, Generator& gen);
  FlowResult forward(const Tensor& x) override;
  Tensor inverse(const Tensor& y) override;
  FlowResult inverse_with_logdet(const Tensor& y) override;
  std::string kind() const override { return type_ == Coupling::affine ? "affine_coupling" : "additive_coupling"; }
  std::shared_ptr<CouplingNetwork> network;

 private:
  Coupling type_;
  int64_t channels_;
};

// Channels 0::2 and 1::2 of h [N, 2K, H, W] (openai/glow's interleaved split).
std::pair<Tensor, Tensor> interleaved_halves(const Tensor& h);

}  // namespace ft::layers
