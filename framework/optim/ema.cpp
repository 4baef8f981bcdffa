#include "framework/optim/ema.h"

#include <cstring>

#include "framework/core/check.h"
#include "framework/optim/parallel.h"

namespace ft::optim {

Ema::Ema(int64_t n, double decay) : shadow_(Tensor::zeros({n})), decay_(decay) {
  FT_CHECK(n >= 0, "EMA range size must be >= 0, got {}", n);
  if (!(decay >= 0.0 && decay <= 1.0)) FT_FAIL("optim.ema must be in [0, 1], got {}", decay);
}

void Ema::update(const float* params) {
  float* shadow = shadow_.data<float>();
  const int64_t n = shadow_.numel();
  if (!initialized_) {
    if (n > 0) std::memcpy(shadow, params, size_t(n) * sizeof(float));
    initialized_ = true;
    return;
  }
  // f64 math with one rounding: at decay 0.9999 the f32 product (1-decay)*p would
  // lose the low bits every step.
  const double keep = decay_, take = 1.0 - decay_;
  detail::for_each_element(n, [&](int64_t i) { shadow[i] = float(keep * shadow[i] + take * params[i]); });
}

}  // namespace ft::optim
