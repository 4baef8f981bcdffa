// The network of a Flow++ coupling (aravindsrinivas/flowpp MixLogisticAttnCoupling):
// conv3x3 in -> blocks x ConvAttnBlock (flowpp_blocks.h) -> zero-initialised conv3x3
// out, so a fresh coupling's parameters are all zero. One learned position embedding
// [1, filters, H, W] (init N(0, 0.01^2)) is shared by the blocks' attentions.
#pragma once
#include <memory>
#include <vector>

#include "layers/flows/flowpp_blocks.h"

namespace ft::layers::flows {

struct FlowppNetworkShape {
  int64_t in_channels = 0, out_channels = 0;
  int64_t height = 0, width = 0;
  int64_t filters = 96, blocks = 10, heads = 4;
  int64_t context_channels = 0;  // > 0: every gated conv adds a projection of image features
};

class FlowppConditioner : public nn::Module {
 public:
  FlowppConditioner(const FlowppNetworkShape& shape, Generator& gen);
  // x [N, in_channels, H, W], context [N, context_channels, H, W] or undefined -> [N, out_channels, H, W]
  Tensor forward(const Tensor& x, const Tensor& context) const;
  const FlowppNetworkShape& shape() const { return shape_; }

  std::shared_ptr<nn::Conv2d> project_in;
  std::vector<std::shared_ptr<ConvAttnBlock>> blocks;
  std::shared_ptr<nn::Conv2d> project_out;
  Tensor position_embedding;

 private:
  FlowppNetworkShape shape_;
};

}  // namespace ft::layers::flows
