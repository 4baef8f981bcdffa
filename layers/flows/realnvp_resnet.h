// RealNVP's conditioner of the image couplings (Dinh et al. 2017, section 4.1: deep
// residual networks with batch normalisation and weight normalisation), laid out as
// chrischute/real-nvp's faithful PyTorch reimplementation:
//   in:    batch norm -> concat(h, -h) -> ReLU -> 3x3 WN conv (features, bias)
//   block: batch norm -> ReLU -> 3x3 WN conv (no bias) -> batch norm -> ReLU ->
//          3x3 WN conv (bias), plus the block's input (residual)
//   skips: a 1x1 WN conv of the input conv's output and of every block's output,
//          summed (the output path)
//   out:   batch norm -> ReLU -> 1x1 WN conv (out channels), zero-initialised so the
//          coupling starts as the identity (chrischute initialises it randomly).
// Batch norm is the flow library's BatchNormTransform (batch statistics in training,
// running ones in eval); its scale is positive, which the concat(h, -h) and the
// surrounding convolutions' signs make no restriction.
#pragma once
#include <memory>
#include <vector>

#include "framework/nn/weight_norm_conv2d.h"
#include "layers/flows/batch_norm.h"

namespace ft::layers::flows {

class RealNvpResidualBlock : public nn::Module {
 public:
  RealNvpResidualBlock(int64_t features, Generator& gen);
  Tensor forward(const Tensor& x) const;
  std::shared_ptr<BatchNormTransform> in_norm, out_norm;
  std::shared_ptr<nn::WeightNormConv2d> in_conv, out_conv;
};

class RealNvpResNet : public nn::Module {
 public:
  RealNvpResNet(int64_t in_channels, int64_t features, int64_t out_channels, int64_t res_blocks, Generator& gen);
  Tensor forward(const Tensor& x) const;
  std::shared_ptr<BatchNormTransform> in_norm, out_norm;
  std::shared_ptr<nn::WeightNormConv2d> in_conv, in_skip, out_conv;
  std::vector<std::shared_ptr<RealNvpResidualBlock>> blocks;
  std::vector<std::shared_ptr<nn::WeightNormConv2d>> skips;
};

}  // namespace ft::layers::flows
