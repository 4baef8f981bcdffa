#include "layers/flows/flowpp_config.h"

#include "framework/core/check.h"

namespace ft::layers::flows {

namespace {

void require_positive(int64_t value, const char* key) {
  if (value < 1) FT_FAIL("model.{} must be >= 1, got {}", key, value);
}

// Channel masks need an even channel count and checkerboards more than one pixel, at
// the scale's resolution (channels * 4^s, image_size / 2^s).
void validate_scale(const FlowppScale& scale, size_t index, int64_t channels, int64_t size) {
  if (scale.channel_couplings < 0 || scale.checkerboard_couplings < 0)
    FT_FAIL("model.scales[{}] needs coupling counts >= 0, got {} channel and {} checkerboard", index,
            scale.channel_couplings, scale.checkerboard_couplings);
  if (scale.channel_couplings > 0 && channels % 2 != 0)
    FT_FAIL("model.scales[{}] has channel couplings, but its {} channels do not split in half", index, channels);
  if (scale.checkerboard_couplings > 0 && size < 2)
    FT_FAIL("model.scales[{}] has checkerboard couplings, but its images are {}x{}", index, size, size);
}

}  // namespace

void FlowppConfig::validate() const {
  require_positive(channels, "channels");
  require_positive(image_size, "image_size");
  require_positive(filters, "filters");
  require_positive(blocks, "blocks");
  require_positive(heads, "heads");
  require_positive(components, "components");
  require_positive(dequant_couplings, "dequant_couplings");
  require_positive(dequant_filters, "dequant_filters");
  require_positive(dequant_blocks, "dequant_blocks");
  require_positive(dequant_context_channels, "dequant_context_channels");
  if (dequant_context_blocks < 0)
    FT_FAIL("model.dequant_context_blocks must be >= 0, got {}", dequant_context_blocks);
  if (filters % heads != 0) FT_FAIL("model.filters {} is not divisible by model.heads {}", filters, heads);
  if (dequant_filters % heads != 0)
    FT_FAIL("model.dequant_filters {} is not divisible by model.heads {}", dequant_filters, heads);
  if (scales.empty()) FT_FAIL("model.scales must list at least one scale");
  int64_t divisor = int64_t(1) << (scales.size() - 1);  // one squeeze between scales
  if (scales.size() > 16 || image_size % divisor != 0)
    FT_FAIL("model.image_size {} is not divisible by 2^{} (one squeeze between the {} model.scales)", image_size,
            scales.size() - 1, scales.size());
  int64_t total = 0;
  for (size_t s = 0; s < scales.size(); ++s) {
    validate_scale(scales[s], s, channels << (2 * s), image_size >> s);
    total += scales[s].channel_couplings + scales[s].checkerboard_couplings;
  }
  if (total == 0) FT_FAIL("model.scales has no couplings");
}

FlowppConfig flowpp_cifar10_config() {
  FlowppConfig c;
  c.channels = 3;
  c.image_size = 32;
  c.filters = 96;
  c.blocks = 10;
  c.heads = 4;
  c.components = 32;
  c.scales = {{0, 4}, {2, 3}};
  c.permutation = Permutation::plain;
  c.dequant_couplings = 4;
  c.dequant_filters = 96;
  c.dequant_blocks = 2;
  c.dequant_context_channels = 32;
  c.dequant_context_blocks = 3;
  return c;
}

}  // namespace ft::layers::flows
