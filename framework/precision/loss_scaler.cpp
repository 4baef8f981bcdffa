#include "framework/precision/loss_scaler.h"

#include <cmath>

#include "framework/core/check.h"

namespace ft::precision {

LossScaler::LossScaler(double init_scale, double growth, double backoff, int64_t growth_interval)
    : scale_(init_scale), growth_(growth), backoff_(backoff), growth_interval_(growth_interval) {
  FT_CHECK(std::isfinite(init_scale) && init_scale > 0.0, "loss scale must be finite and > 0, got {}", init_scale);
  FT_CHECK(growth > 1.0, "loss-scale growth factor must be > 1, got {}", growth);
  FT_CHECK(backoff > 0.0 && backoff < 1.0, "loss-scale backoff factor must be in (0, 1), got {}", backoff);
  FT_CHECK(growth_interval >= 1, "loss-scale growth interval must be >= 1, got {}", growth_interval);
}

void LossScaler::update(bool found_inf) {
  if (found_inf) {
    scale_ *= backoff_;
    good_steps_ = 0;
    return;
  }
  if (++good_steps_ < growth_interval_) return;
  // As GradScaler: growing into an infinite scale is refused, the count still restarts.
  const double grown = scale_ * growth_;
  if (std::isfinite(grown)) scale_ = grown;
  good_steps_ = 0;
}

void LossScaler::set_state(double scale, int64_t good_steps) {
  FT_CHECK(std::isfinite(scale) && scale > 0.0, "loss scale must be finite and > 0, got {}", scale);
  FT_CHECK(good_steps >= 0 && good_steps < growth_interval_, "loss-scale good steps must be in [0, {}), got {}",
           growth_interval_, good_steps);
  scale_ = scale;
  good_steps_ = good_steps;
}

}  // namespace ft::precision
