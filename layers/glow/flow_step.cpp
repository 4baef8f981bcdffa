#include "layers/glow/flow_step.h"

namespace ft::layers {

FlowStep::FlowStep(int64_t channels, const GlowConfig& config, Generator& gen) {
  actnorm = register_module("actnorm", std::make_shared<ActNorm>(channels));
  invconv = register_module("invconv", std::make_shared<InvertibleConv1x1>(channels, config.permutation, gen));
  coupling = register_module("coupling", std::make_shared<CouplingLayer>(channels, config.width, config.coupling, gen));
}

FlowResult FlowStep::forward(const Tensor& x) {
  FlowResult a = actnorm->forward(x);
  FlowResult b = invconv->forward(a.y);
  FlowResult c = coupling->forward(b.y);
  return {c.y, add_logdet(add_logdet(a.logdet, b.logdet), c.logdet)};
}

Tensor FlowStep::inverse(const Tensor& y) {
  return actnorm->inverse(invconv->inverse(coupling->inverse(y)));
}

FlowResult FlowStep::inverse_with_logdet(const Tensor& y) {
  FlowResult c = coupling->inverse_with_logdet(y);
  FlowResult b = invconv->inverse_with_logdet(c.y);
  FlowResult a = actnorm->inverse_with_logdet(b.y);
  return {a.y, add_logdet(add_logdet(c.logdet, b.logdet), a.logdet)};
}

}  // namespace ft::layers
