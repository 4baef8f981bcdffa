// Dynamic loss scaling for fp16 training.
#pragma once
#include <cstdint>

namespace ft::precision {

// Dynamic loss scaling for fp16 (torch.cuda.amp.GradScaler semantics): scale starts at
// init_scale (65536), an overflow multiplies it by backoff (0.5) and the step is
// skipped; growth_interval (2000) good steps in a row multiply it by growth (2). The
// overflow decision must be the same on every rank: update() takes the already
// all-reduced "found_inf" flag, so every rank's scale stays identical.
class LossScaler {
 public:
  explicit LossScaler(double init_scale = 65536.0, double growth = 2.0, double backoff = 0.5,
                      int64_t growth_interval = 2000);
  double scale() const { return scale_; }
  // After each step: found_inf true means the step was skipped.
  void update(bool found_inf);
  int64_t good_steps() const { return good_steps_; }
  void set_state(double scale, int64_t good_steps);  // restored from checkpoints

 private:
  double scale_;
  double growth_, backoff_;
  int64_t growth_interval_;
  int64_t good_steps_ = 0;
};

}  // namespace ft::precision
