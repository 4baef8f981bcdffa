#include "layers/flows/flowpp_conditioner.h"

#include <string>

#include "framework/ops/ops.h"

namespace ft::layers::flows {

FlowppConditioner::FlowppConditioner(const FlowppNetworkShape& shape, Generator& gen) : shape_(shape) {
  FT_CHECK(shape.in_channels > 0 && shape.out_channels > 0 && shape.height > 0 && shape.width > 0 &&
               shape.filters > 0 && shape.blocks >= 0 && shape.context_channels >= 0,
           "a Flow++ conditioner needs positive sizes, got in {} out {} image {}x{} filters {} blocks {} context {}",
           shape.in_channels, shape.out_channels, shape.height, shape.width, shape.filters, shape.blocks,
           shape.context_channels);
  project_in =
      register_module("project_in", std::make_shared<nn::Conv2d>(shape.in_channels, shape.filters, 3, true, gen));
  position_embedding = normal({1, shape.filters, shape.height, shape.width}, 0.0, 0.01, gen);
  register_parameter("position_embedding", &position_embedding);
  for (int64_t b = 0; b < shape.blocks; ++b)
    blocks.push_back(register_module("blocks." + std::to_string(b),
                                     std::make_shared<ConvAttnBlock>(shape.filters, shape.heads,
                                                                     shape.context_channels, gen)));
  project_out = register_module(
      "project_out", std::make_shared<nn::Conv2d>(shape.filters, shape.out_channels, 3, true, gen, nn::Init::zeros));
}

Tensor FlowppConditioner::forward(const Tensor& x, const Tensor& context) const {
  FT_CHECK(x.dim() == 4 && x.size(1) == shape_.in_channels && x.size(2) == shape_.height &&
               x.size(3) == shape_.width,
           "a Flow++ conditioner of [N, {}, {}, {}] got {}", shape_.in_channels, shape_.height, shape_.width,
           shape_str(x.shape()));
  Tensor h = project_in->forward(x);
  for (const auto& block : blocks) h = block->forward(h, position_embedding, context);
  return project_out->forward(h);
}

}  // namespace ft::layers::flows
