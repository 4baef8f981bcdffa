#pragma once
#include <functional>

#include "layers/flow.h"

namespace ft::layers {

// y = (x + b) * exp(logs) per channel; logdet = H*W*sum(logs). The first
// forward in training mode initialises b = -mean and logs = log(1/(std + 1e-6))
// from its batch (averaged over replicas), so outputs start with zero mean and
// unit variance per channel. `initialized` is a buffer, so checkpoints keep it.
class ActNorm : public FlowLayer {
 public:
  explicit ActNorm(int64_t channels);
  FlowResult forward(const Tensor& x) override;
  Tensor inverse(const Tensor& y) override;
  FlowResult inverse_with_logdet(const Tensor& y) override;
  std::string kind() const override { return "actnorm"; }
  // Read from the buffer until it says yes, then remembered: on a GPU each read is a
  // host sync, and the flag never goes back once the layer has initialised.
  bool is_initialized() const {
    if (!seen_initialized_) seen_initialized_ = initialized.item() != 0.0;
    return seen_initialized_;
  }
  void set_statistics_averager(StatisticsAverager averager) { averager_ = std::move(averager); }

  Tensor bias, logs;  // [1, C, 1, 1]
  Tensor initialized;  // scalar, 0 or 1

 private:
  void initialize_from(const Tensor& x);
  StatisticsAverager averager_;
  mutable bool seen_initialized_ = false;
};

}  // namespace ft::layers
