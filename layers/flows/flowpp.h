// Builders of the Flow++ model (Ho et al. 2019) from a FlowppConfig (flowpp_config.h).
//
// flowpp_transform: (pixels + u) / 256 in [0, 1) (layers::unit_scaling), [N, C, S, S]
// -> z of the last scale's shape (after its squeezes; the same dimension D) with
// log|det dz/dx|; log p(x) = log N(z; 0, I) + logabsdet (flatten z to [N, D] for
// StandardNormal). The dequantizer's context is the pixels themselves.
// flowpp_dequantizer: the q(u | x) it is trained with (flowpp_dequantizer.h says how).
//
// Against the reference (aravindsrinivas/flowpp): couplings mask instead of splitting
// (flowpp_coupling.h), so a checkerboard coupling's position embedding covers the full
// width and its network reads [x * mask, mask]; ActNorm is Glow's per channel where the
// reference's Norm is per element; the 1x1 conv acts on all channels where the
// reference's Pointwise has one matrix per half; the dequantizer's context encoder reads
// the C-channel image at full width rather than the 2C-channel half-width split. For
// CIFAR-10 that is 31,875,536 parameters against the reference's 31,443,440 (+1.4%):
// +430,080 in the full-width position embeddings, +82,944 in the networks' mask input
// channels, -80,928 in the per-channel ActNorms, per-image 1x1 convs and context input.
#pragma once
#include <memory>

#include "layers/flows/flowpp_config.h"
#include "layers/flows/flowpp_dequantizer.h"
#include "layers/flows/transform.h"

namespace ft::layers::flows {

std::shared_ptr<Transform> flowpp_transform(const FlowppConfig& config, Generator& gen);
std::shared_ptr<VariationalDequantizer> flowpp_dequantizer(const FlowppConfig& config, Generator& gen);

}  // namespace ft::layers::flows
