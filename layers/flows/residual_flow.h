// The multiscale image architecture of i-ResNet and Residual Flows (Behrmann et al.
// 2019; Chen et al. 2019), without factored-out dimensions, as i-ResNet's: per scale,
// `blocks` times [ActNorm, residual block (3x3 -> 1x1 -> 3x3 Lipschitz CNN with
// `hidden` channels)], a squeeze between scales, and a last ActNorm. [N, C, S, S] ->
// z [N, C 4^(scales-1), S / 2^(scales-1), same] with log|det dz/dx|. Logit
// preprocessing comes before it as its own transform (model.preprocess).
#pragma once
#include <memory>

#include "framework/nn/spectral_norm.h"
#include "layers/flows/residual_block.h"
#include "layers/flows/transform.h"

namespace ft::layers::flows {

struct ResidualFlowConfig {
  int64_t channels = 1, image_size = 28;
  int64_t scales = 2;
  int64_t blocks = 4;   // per scale
  int64_t hidden = 128;  // channels inside each block's network
  bool actnorm = true;
  nn::SpectralNormOptions spectral;
  ResidualBlockOptions block;
  void validate() const;
  Shape latent_shape() const;  // one example of z
};

std::shared_ptr<Transform> residual_flow_transform(const ResidualFlowConfig& config, Generator& gen);

}  // namespace ft::layers::flows
