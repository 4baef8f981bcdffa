#include "layers/flows/cnf_multiscale.h"

#include <fmt/core.h>

#include <vector>

#include "framework/core/check.h"
#include "layers/flows/flow_layer_transform.h"
#include "layers/glow/actnorm.h"
#include "layers/glow/squeeze.h"

namespace ft::layers::flows {

void CnfMultiscaleConfig::validate() const {
  FT_CHECK(channels >= 1 && image_size >= 1, "cnf_multiscale: channels {} and image_size {} must be >= 1", channels,
           image_size);
  FT_CHECK(scales >= 1, "cnf_multiscale: scales must be >= 1, got {}", scales);
  FT_CHECK(blocks >= 1, "cnf_multiscale: blocks must be >= 1, got {}", blocks);
  FT_CHECK(hidden >= 1, "cnf_multiscale: hidden must be >= 1, got {}", hidden);
  FT_CHECK(hidden_layers >= 0, "cnf_multiscale: hidden_layers must be >= 0, got {}", hidden_layers);
  FT_CHECK(image_size % (int64_t(1) << (scales - 1)) == 0,
           "cnf_multiscale: {} scales squeeze {} times, which image_size {} does not allow (it must divide by {})",
           scales, scales - 1, image_size, int64_t(1) << (scales - 1));
  flow.validate("cnf_multiscale");
}

Shape CnfMultiscaleConfig::latent_shape() const {
  int64_t squeezes = scales - 1;
  return {channels << (2 * squeezes), image_size >> squeezes, image_size >> squeezes};
}

std::shared_ptr<Transform> cnf_multiscale_transform(const CnfMultiscaleConfig& c, Generator& gen) {
  c.validate();
  std::vector<std::shared_ptr<Transform>> transforms;
  int64_t channels = c.channels;
  for (int64_t s = 0; s < c.scales; ++s) {
    if (s > 0) {
      transforms.push_back(std::make_shared<FlowLayerTransform>(std::make_shared<Squeeze>()));
      channels *= 4;
    }
    for (int64_t b = 0; b < c.blocks; ++b) {
      if (c.actnorm) transforms.push_back(std::make_shared<FlowLayerTransform>(std::make_shared<ActNorm>(channels)));
      auto net = std::make_shared<ConcatConvNet>(channels, c.hidden, c.hidden_layers, c.activation, gen);
      transforms.push_back(
          std::make_shared<ContinuousFlow>(net, c.flow, fmt::format("cnf_multiscale scale {} block {}", s, b)));
    }
  }
  return std::make_shared<CompositeTransform>(std::move(transforms));
}

}  // namespace ft::layers::flows
