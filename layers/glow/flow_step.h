#pragma once
#include <memory>

#include "layers/glow/actnorm.h"
#include "layers/glow/coupling.h"
#include "layers/glow/invertible_conv.h"

namespace ft::layers {

// One step of flow: ActNorm -> invertible 1x1 convolution -> coupling.
class FlowStep : public FlowLayer {
 public:
  FlowStep(int64_t channels, const GlowConfig& config, Generator& gen);
  FlowResult forward(const Tensor& x) override;
  Tensor inverse(const Tensor& y) override;
  FlowResult inverse_with_logdet(const Tensor& y) override;
  std::string kind() const override { return "flow_step"; }
  std::shared_ptr<ActNorm> actnorm;
  std::shared_ptr<InvertibleConv1x1> invconv;
  std::shared_ptr<CouplingLayer> coupling;
};

}  // namespace ft::layers
