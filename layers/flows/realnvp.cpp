#include "layers/flows/realnvp.h"

#include "framework/core/check.h"
#include "layers/flows/batch_norm.h"
#include "layers/flows/flow_layer_transform.h"
#include "layers/flows/image_coupling.h"
#include "layers/glow/squeeze.h"

namespace ft::layers::flows {

void RealNvpConfig::validate() const {
  if (channels < 1) FT_FAIL("model.channels must be >= 1, got {}", channels);
  if (scales < 1) FT_FAIL("model.scales must be >= 1, got {}", scales);
  if (res_blocks < 1) FT_FAIL("model.res_blocks must be >= 1, got {}", res_blocks);
  if (features < 1) FT_FAIL("model.features must be >= 1, got {}", features);
  if (coupling == CouplingKind::rational_quadratic)
    FT_FAIL("model.coupling must be \"affine\" or \"additive\" for RealNVP, got \"rational_quadratic\"");
  int64_t divisor = int64_t(1) << (scales - 1);  // one squeeze per scale but the last
  if (image_size < 2 || image_size % divisor != 0 || image_size / divisor < 2)
    FT_FAIL("model.image_size {} must be a multiple of 2^(scales - 1) = {} leaving at least 2x2 pixels at the last "
            "scale (model.scales = {})",
            image_size, divisor, scales);
}

RealNvpConfig realnvp_cifar10_config() {
  RealNvpConfig config;
  config.channels = 3;
  config.image_size = 32;
  config.scales = 2;
  config.res_blocks = 8;
  config.features = 64;
  config.coupling = CouplingKind::affine;
  config.batch_norm = true;
  config.learn_split_prior = false;
  config.learn_top = false;
  return config;
}

namespace {

// Appends `count` couplings of alternating parity (each followed by batch norm when asked).
void add_couplings(std::vector<std::shared_ptr<Transform>>& steps, int64_t count, ImageMask mask,
                   const Shape& image, int64_t features, const RealNvpConfig& config, Generator& gen) {
  for (int64_t i = 0; i < count; ++i) {
    ImageCouplingOptions options{mask, int(i % 2), config.coupling, features, config.res_blocks};
    steps.push_back(std::make_shared<ImageCouplingTransform>(image, options, gen));
    if (config.batch_norm) steps.push_back(std::make_shared<BatchNormTransform>(image[0]));
  }
}

}  // namespace

std::shared_ptr<MultiscaleTransform> realnvp_transform(const RealNvpConfig& config, Generator& gen) {
  config.validate();
  std::vector<MultiscaleLevel> levels;
  int64_t channels = config.channels, size = config.image_size, features = config.features;
  for (int64_t scale = 0; scale < config.scales; ++scale) {
    std::vector<std::shared_ptr<Transform>> steps;
    Shape image{channels, size, size};
    bool last = scale + 1 == config.scales;
    add_couplings(steps, last ? 4 : 3, ImageMask::checkerboard, image, features, config, gen);
    if (!last) {
      steps.push_back(std::make_shared<FlowLayerTransform>(std::make_shared<Squeeze>()));
      image = {4 * channels, size / 2, size / 2};
      add_couplings(steps, 3, ImageMask::channel, image, 2 * features, config, gen);
    }
    levels.push_back({std::make_shared<CompositeTransform>(std::move(steps)), image});
    channels = image[0] / 2;
    size = image[1];
    features *= 2;
  }
  auto prior = [](bool learned) { return learned ? MultiscalePrior::learned : MultiscalePrior::standard_normal; };
  return std::make_shared<MultiscaleTransform>(Shape{config.channels, config.image_size, config.image_size},
                                               std::move(levels), prior(config.learn_split_prior),
                                               prior(config.learn_top), gen);
}

}  // namespace ft::layers::flows
