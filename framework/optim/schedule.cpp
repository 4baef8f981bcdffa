#include "framework/optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "framework/core/check.h"

namespace ft::optim {

namespace {

double warmup_rate(const ScheduleConfig& c, int64_t step) {
  return c.warmup_start_lr + (c.lr - c.warmup_start_lr) * double(step) / double(c.warmup_steps);
}

// A schedule whose total does not exceed its warmup is already at its end after it.
double cosine_rate(const ScheduleConfig& c, int64_t step) {
  const int64_t span = c.total_steps - c.warmup_steps;
  const double progress = span > 0 ? std::min(1.0, double(step - c.warmup_steps) / double(span)) : 1.0;
  return c.min_lr + (c.lr - c.min_lr) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
}

}  // namespace

double learning_rate(const ScheduleConfig& config, int64_t step) {
  FT_CHECK(step >= 0, "learning-rate step must be >= 0, got {}", step);
  if (config.kind != "cosine" && config.kind != "constant")
    FT_FAIL("optim.schedule: unknown schedule '{}' (expected cosine or constant)", config.kind);
  if (config.warmup_steps < 0) FT_FAIL("optim.warmup_steps must be >= 0, got {}", config.warmup_steps);
  if (step < config.warmup_steps) return warmup_rate(config, step);
  if (config.kind == "constant") return config.lr;
  return cosine_rate(config, step);
}

}  // namespace ft::optim
