// Adam-family optimizers over a contiguous range of the flat f32 parameter arena,
// with torch.optim semantics. The math is f32 in torch's operation order, so a run
// tracks PyTorch step for step (tests/optim checks 25 steps to 1e-6 relative). The
// state lives on the arena's device and every update runs there, through the
// kernels of kernels.h (optimizer_update), the same math on every backend.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "framework/core/tensor.h"

namespace ft::optim {

struct OptimizerConfig {
  std::string name = "adamw";  // "adamw" | "adam" | "adamax"
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
};

// Updates a contiguous range of a flat f32 parameter arena in place. With ZeRO-1 each
// rank owns one shard [begin, begin+n) of the arena and its optimizer holds state for
// exactly that shard; without ZeRO-1 one optimizer covers the whole arena. The update
// is element-wise, so shards give bit-identical results to one optimizer on the whole.
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // params and grads: this optimizer's range, contiguous f32 [n] on its device.
  // Increments the step count, then applies one update with learning rate lr.
  virtual void step(Tensor& params, const Tensor& grads, double lr) = 0;
  virtual int64_t size() const = 0;  // n
  int64_t step_count() const { return step_count_; }
  void set_step_count(int64_t steps);  // restored from checkpoints
  // Named state tensors (flat f32 [n] on the device): "exp_avg", "exp_avg_sq"
  // (Adam/AdamW), "exp_avg", "exp_inf" (Adamax).
  virtual std::vector<std::pair<std::string, Tensor*>> state() = 0;

 protected:
  int64_t step_count_ = 0;
};

// Throws ft::Error naming optim.name on an unknown name, and the optim key of an
// out-of-range hyperparameter (the ranges torch.optim accepts).
std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config, int64_t n, Device device = Device::cpu());

}  // namespace ft::optim
