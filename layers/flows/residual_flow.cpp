#include "layers/flows/residual_flow.h"

#include <fmt/core.h>

#include <vector>

#include "framework/core/check.h"
#include "layers/flows/flow_layer_transform.h"
#include "layers/glow/actnorm.h"
#include "layers/glow/squeeze.h"

namespace ft::layers::flows {

void ResidualFlowConfig::validate() const {
  FT_CHECK(channels >= 1 && image_size >= 1, "residual_flow: channels {} and image_size {} must be >= 1", channels,
           image_size);
  FT_CHECK(scales >= 1, "residual_flow: scales must be >= 1, got {}", scales);
  FT_CHECK(blocks >= 1, "residual_flow: blocks must be >= 1, got {}", blocks);
  FT_CHECK(hidden >= 1, "residual_flow: hidden must be >= 1, got {}", hidden);
  FT_CHECK(image_size % (int64_t(1) << (scales - 1)) == 0,
           "residual_flow: {} scales squeeze {} times, which image_size {} does not allow (it must divide by {})",
           scales, scales - 1, image_size, int64_t(1) << (scales - 1));
  spectral.validate("residual_flow");
  block.validate("residual_flow");
}

Shape ResidualFlowConfig::latent_shape() const {
  int64_t squeezes = scales - 1;
  return {channels << (2 * squeezes), image_size >> squeezes, image_size >> squeezes};
}

std::shared_ptr<Transform> residual_flow_transform(const ResidualFlowConfig& c, Generator& gen) {
  c.validate();
  std::vector<std::shared_ptr<Transform>> transforms;
  int64_t channels = c.channels, size = c.image_size;
  for (int64_t s = 0; s < c.scales; ++s) {
    if (s > 0) {
      transforms.push_back(std::make_shared<FlowLayerTransform>(std::make_shared<Squeeze>()));
      channels *= 4;
      size /= 2;
    }
    for (int64_t b = 0; b < c.blocks; ++b) {
      if (c.actnorm) transforms.push_back(std::make_shared<FlowLayerTransform>(std::make_shared<ActNorm>(channels)));
      auto net = LipschitzNetwork::cnn(channels, c.hidden, size, size, c.spectral, gen);
      transforms.push_back(
          std::make_shared<ResidualBlock>(net, c.block, fmt::format("residual_flow scale {} block {}", s, b)));
    }
  }
  if (c.actnorm) transforms.push_back(std::make_shared<FlowLayerTransform>(std::make_shared<ActNorm>(channels)));
  return std::make_shared<CompositeTransform>(std::move(transforms));
}

}  // namespace ft::layers::flows
