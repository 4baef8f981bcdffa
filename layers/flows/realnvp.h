// RealNVP's image architecture (Dinh et al. 2017, section 3.6 and 4.1) as a
// MultiscaleTransform [N, C, H, W] -> [N, C*H*W]; with StandardNormal(C*H*W) it is the
// paper's model, with learned priors the Glow-style variant.
//   every scale but the last: 3 checkerboard couplings (parities 0, 1, 0), squeeze,
//     3 channel couplings (0, 1, 0), factor out half of the channels
//   the last scale: 4 checkerboard couplings (0, 1, 0, 1)
// With batch_norm, a batch norm flow layer follows every coupling (section 3.7: "we also
// apply batch normalization to the whole coupling layer output"; with the batch's
// statistics, not Appendix E's running-average variant). The ResNet widths follow
// chrischute/real-nvp: `features` at the first scale's checkerboard couplings, twice
// that for the channel couplings after its squeeze, and both doubling every scale.
#pragma once
#include <memory>

#include "layers/flows/coupling.h"
#include "layers/flows/multiscale.h"

namespace ft::layers::flows {

struct RealNvpConfig {
  int64_t channels = 3;
  int64_t image_size = 32;
  int64_t scales = 2;       // scales - 1 squeezes and factor-outs
  int64_t res_blocks = 8;   // residual blocks of each coupling's ResNet
  int64_t features = 64;    // feature maps of the first scale's checkerboard ResNets
  CouplingKind coupling = CouplingKind::affine;  // affine (RealNVP) or additive (NICE-style)
  bool batch_norm = true;   // a batch norm flow layer after every coupling
  bool learn_split_prior = false;  // Glow's learned prior of the factored-out halves
  bool learn_top = false;          // Glow's learned prior of the last scale's output

  // Throws ft::Error naming the offending key (model.<key>).
  void validate() const;
};

// The paper's CIFAR-10 model (section 4.1): 8 residual blocks of 64 feature maps,
// downscaled once (2 scales on 32x32x3), batch norm after the couplings, standard
// normal priors.
RealNvpConfig realnvp_cifar10_config();

std::shared_ptr<MultiscaleTransform> realnvp_transform(const RealNvpConfig& config, Generator& gen);

}  // namespace ft::layers::flows
