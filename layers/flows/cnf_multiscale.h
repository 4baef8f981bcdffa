// FFJORD's multiscale image architecture (Grathwohl et al. 2019), without its
// factored-out dimensions (as residual_flow.h's i-ResNet stack): per scale `blocks`
// continuous flows on the whole image, each with a ConcatConv2d network of
// `hidden_layers` hidden layers of `hidden` channels (optionally after an ActNorm),
// a squeeze between scales. [N, C, S, S] -> z [N, C 4^(scales-1), S / 2^(scales-1),
// same] with log|det dz/dx|. Logit preprocessing comes before it as its own
// transform (model.preprocess).
#pragma once
#include <memory>

#include "layers/flows/cnf.h"
#include "layers/flows/transform.h"

namespace ft::layers::flows {

struct CnfMultiscaleConfig {
  int64_t channels = 1, image_size = 28;
  int64_t scales = 2;
  int64_t blocks = 1;  // per scale
  int64_t hidden = 64;
  int64_t hidden_layers = 2;
  OdeActivation activation = OdeActivation::softplus;
  bool actnorm = false;
  ContinuousFlowOptions flow;
  void validate() const;
  Shape latent_shape() const;  // one example of z
};

std::shared_ptr<Transform> cnf_multiscale_transform(const CnfMultiscaleConfig& config, Generator& gen);

}  // namespace ft::layers::flows
