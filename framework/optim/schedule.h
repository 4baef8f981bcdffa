// Learning-rate schedule: linear warmup, then cosine decay (or constant).
#pragma once
#include <cstdint>
#include <string>

namespace ft::optim {

struct ScheduleConfig {
  double lr = 1e-3, min_lr = 0.0, warmup_start_lr = 0.0;
  int64_t warmup_steps = 0, total_steps = 1;
  std::string kind = "cosine";  // "cosine" | "constant"
};

// Learning rate for the update at `step` (0-based): linear warmup from warmup_start_lr
// (step 0) towards lr (reached at step warmup_steps), then cosine from lr to min_lr,
// reaching min_lr at total_steps and staying there. "constant" keeps lr after the
// warmup (the warmup applies to both kinds: warmup_steps is its own config key).
// Throws ft::Error naming optim.schedule on an unknown kind.
double learning_rate(const ScheduleConfig& config, int64_t step);

}  // namespace ft::optim
