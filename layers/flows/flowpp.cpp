#include "layers/flows/flowpp.h"

#include <vector>

#include "layers/flows/flow_layer_transform.h"
#include "layers/flows/flowpp_coupling.h"
#include "layers/flows/logit.h"
#include "layers/glow/actnorm.h"
#include "layers/glow/invertible_conv.h"
#include "layers/glow/squeeze.h"

namespace ft::layers::flows {

namespace {

FlowppCouplingOptions coupling_options(const FlowppConfig& c) {
  FlowppCouplingOptions o;
  o.filters = c.filters;
  o.blocks = c.blocks;
  o.heads = c.heads;
  o.components = c.components;
  return o;
}

// ActNorm -> invertible 1x1 conv -> coupling (the reference's Norm, Pointwise, MixLogisticAttnCoupling).
void add_step(std::vector<std::shared_ptr<Transform>>& out, ImageMask mask, int parity, int64_t channels,
              int64_t size, const FlowppConfig& c, Generator& gen) {
  out.push_back(std::make_shared<FlowLayerTransform>(std::make_shared<ActNorm>(channels)));
  out.push_back(
      std::make_shared<FlowLayerTransform>(std::make_shared<InvertibleConv1x1>(channels, c.permutation, gen)));
  out.push_back(std::make_shared<FlowppCoupling>(mask, parity, channels, size, size, coupling_options(c), gen));
}

}  // namespace

std::shared_ptr<Transform> flowpp_transform(const FlowppConfig& config, Generator& gen) {
  config.validate();
  // The reference's preprocessing, logit(0.05 + 0.9 (pixel + u) / 256), is RealNVP's logit.
  std::vector<std::shared_ptr<Transform>> transforms{std::make_shared<LogitTransform>(0.05)};
  int64_t channels = config.channels, size = config.image_size;
  for (size_t s = 0; s < config.scales.size(); ++s) {
    if (s > 0) {
      transforms.push_back(std::make_shared<FlowLayerTransform>(std::make_shared<Squeeze>()));
      channels *= 4;
      size /= 2;
    }
    const FlowppScale& scale = config.scales[s];
    for (int64_t i = 0; i < scale.channel_couplings; ++i)
      add_step(transforms, ImageMask::channel, int(i % 2), channels, size, config, gen);
    for (int64_t i = 0; i < scale.checkerboard_couplings; ++i)
      add_step(transforms, ImageMask::checkerboard, int(i % 2), channels, size, config, gen);
  }
  return std::make_shared<CompositeTransform>(std::move(transforms));
}

std::shared_ptr<VariationalDequantizer> flowpp_dequantizer(const FlowppConfig& config, Generator& gen) {
  config.validate();
  FlowppDequantizerOptions o;
  o.couplings = config.dequant_couplings;
  o.context_channels = config.dequant_context_channels;
  o.context_blocks = config.dequant_context_blocks;
  o.coupling.filters = config.dequant_filters;
  o.coupling.blocks = config.dequant_blocks;
  o.coupling.heads = config.heads;
  o.coupling.components = config.components;
  o.permutation = config.permutation;
  return std::make_shared<VariationalDequantizer>(config.channels, config.image_size, config.image_size, o, gen);
}

}  // namespace ft::layers::flows
