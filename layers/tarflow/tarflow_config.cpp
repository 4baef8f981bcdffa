#include "layers/tarflow/tarflow_config.h"

#include "framework/core/check.h"

namespace ft::layers {

namespace {

void require_positive(const char* field, int64_t value) {
  if (value <= 0) FT_FAIL("tarflow config: {} = {} must be positive", field, value);
}

}  // namespace

void TarflowConfig::validate() const {
  require_positive("channels", channels);
  require_positive("image_size", image_size);
  require_positive("patch_size", patch_size);
  require_positive("width", width);
  require_positive("blocks", blocks);
  require_positive("layers_per_block", layers_per_block);
  require_positive("head_dim", head_dim);
  if (image_size % patch_size != 0)
    FT_FAIL("tarflow config: patch_size = {} does not divide image_size = {}", patch_size, image_size);
  // One token has nothing to condition on: every block would be the identity.
  if (tokens() < 2)
    FT_FAIL("tarflow config: patch_size = {} leaves a single token for image_size = {}", patch_size, image_size);
  if (width % head_dim != 0)
    FT_FAIL("tarflow config: width = {} is not a multiple of head_dim = {}", width, head_dim);
  if (num_classes < 0) FT_FAIL("tarflow config: num_classes = {} must be >= 0", num_classes);
  if (!(label_dropout >= 0.0 && label_dropout < 1.0))
    FT_FAIL("tarflow config: label_dropout = {} must be in [0, 1)", label_dropout);
  if (dequantization == "gaussian") {
    if (!(noise_std > 0.0))
      FT_FAIL("tarflow config: noise_std = {} must be positive with gaussian dequantization", noise_std);
  } else if (dequantization == "uniform") {
    // The bin term of bits/dim assumes uniform noise only; extra Gaussian noise would blur it.
    if (noise_std != 0.0)
      FT_FAIL("tarflow config: noise_std = {} must be 0 with uniform dequantization", noise_std);
  } else {
    FT_FAIL("tarflow config: dequantization = '{}' (expected 'gaussian' or 'uniform')", dequantization);
  }
}

}  // namespace ft::layers
