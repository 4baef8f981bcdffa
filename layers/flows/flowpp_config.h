// Flow++ hyperparameters (Ho et al. 2019; aravindsrinivas/flowpp run_cifar.py).
// The flow: the logit of (pixel + u) / 256 (logit.h, alpha 0.05), then for each scale its
// channel-mask couplings and then its checkerboard couplings, a 2x2 squeeze between
// consecutive scales; every coupling is preceded by ActNorm and an invertible 1x1 conv,
// and the mask parities alternate (the reference's TupleFlip). No factored-out
// dimensions: z has the data's dimension, under a standard normal.
#pragma once
#include <cstdint>
#include <vector>

#include "layers/glow/glow_config.h"  // Permutation

namespace ft::layers::flows {

struct FlowppScale {
  int64_t channel_couplings = 0;
  int64_t checkerboard_couplings = 0;
};

struct FlowppConfig {
  int64_t channels = 3;
  int64_t image_size = 32;
  // Coupling networks.
  int64_t filters = 96;
  int64_t blocks = 10;  // ConvAttnBlocks per coupling
  int64_t heads = 4;
  int64_t components = 32;  // logistic mixture components K
  std::vector<FlowppScale> scales{{0, 4}, {2, 3}};
  Permutation permutation = Permutation::plain;  // the reference's Pointwise is a full W
  // Variational dequantizer.
  int64_t dequant_couplings = 4;
  int64_t dequant_filters = 96;
  int64_t dequant_blocks = 2;
  int64_t dequant_context_channels = 32;
  int64_t dequant_context_blocks = 3;

  // Throws ft::Error naming the offending key (model.<key>).
  void validate() const;
};

// The paper's CIFAR-10 model (run_cifar.py: filters 96, 10 blocks, 4 heads, 32
// components; 4 checkerboard couplings at 32x32, a squeeze, 2 channel and 3
// checkerboard couplings at 16x16; a dequantizer of 4 couplings with 96 filters and 2
// blocks on 32 context channels from 3 gated convs). The reference counts 31,443,440
// parameters (flow and dequantizer); this model has 31,875,536 (+1.4%, flowpp.h says why).
// The paper trains it with dropout 0.2, Adam lr 3e-4 after 2000 warmup steps, batch 64,
// gradient clipping 1 and an EMA of 0.999; flowtrain's conditioners have no dropout layer.
FlowppConfig flowpp_cifar10_config();

}  // namespace ft::layers::flows
