#include "layers/glow/glow_config.h"

#include "framework/core/check.h"

namespace ft::layers {

void GlowConfig::validate() const {
  if (channels < 1) FT_FAIL("model.channels must be >= 1, got {}", channels);
  if (levels < 1) FT_FAIL("model.levels must be >= 1, got {}", levels);
  if (depth < 1) FT_FAIL("model.depth must be >= 1, got {}", depth);
  if (width < 1) FT_FAIL("model.width must be >= 1, got {}", width);
  if (n_bits < 1 || n_bits > 8) FT_FAIL("model.n_bits must be in [1, 8], got {}", n_bits);
  if (num_classes < 0) FT_FAIL("model.num_classes must be >= 0, got {}", num_classes);
  int64_t divisor = int64_t(1) << levels;  // one squeeze per level
  if (image_size % divisor != 0)
    FT_FAIL("model.image_size {} is not divisible by 2^levels = {} (model.levels = {})", image_size, divisor, levels);
}

Coupling coupling_from_name(const std::string& name) {
  if (name == "affine") return Coupling::affine;
  if (name == "additive") return Coupling::additive;
  FT_FAIL("model.coupling must be \"affine\" or \"additive\", got \"{}\"", name);
}

Permutation permutation_from_name(const std::string& name) {
  if (name == "lu") return Permutation::lu;
  if (name == "plain") return Permutation::plain;
  FT_FAIL("model.permutation must be \"lu\" or \"plain\", got \"{}\"", name);
}

const char* coupling_name(Coupling c) { return c == Coupling::affine ? "affine" : "additive"; }
const char* permutation_name(Permutation p) { return p == Permutation::lu ? "lu" : "plain"; }

}  // namespace ft::layers
