#pragma once
#include "layers/flow.h"

namespace ft::layers {

// 2x2 space-to-depth, channel order (c, dy, dx) as openai/glow's squeeze2d; volume preserving.
class Squeeze : public FlowLayer {
 public:
  FlowResult forward(const Tensor& x) override;
  Tensor inverse(const Tensor& y) override;
  FlowResult inverse_with_logdet(const Tensor& y) override;
  std::string kind() const override { return "squeeze"; }
};

}  // namespace ft::layers
