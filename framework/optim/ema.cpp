#include "framework/optim/ema.h"

#include "framework/core/check.h"
#include "framework/kernels/kernels.h"

namespace ft::optim {

Ema::Ema(int64_t n, double decay, Device device) : shadow_(Tensor::zeros({n}, DType::f32, device)), decay_(decay) {
  FT_CHECK(n >= 0, "EMA range size must be >= 0, got {}", n);
  if (!(decay >= 0.0 && decay <= 1.0)) FT_FAIL("optim.ema must be in [0, 1], got {}", decay);
}

void Ema::update(const Tensor& params) {
  if (!initialized_) {
    kernels::copy_into(shadow_, params);
    initialized_ = true;
    return;
  }
  kernels::ema_update(shadow_, params, decay_);
}

}  // namespace ft::optim
