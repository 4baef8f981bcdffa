#include "framework/optim/optimizer.h"

#include <cmath>

#include "framework/core/check.h"
#include "framework/kernels/kernels.h"

namespace ft::optim {

void Optimizer::set_step_count(int64_t steps) {
  FT_CHECK(steps >= 0, "optimizer step count must be >= 0, got {}", steps);
  step_count_ = steps;
}

namespace {

OptimizerScalars moment_scalars(const OptimizerConfig& c) {
  OptimizerScalars k;
  k.beta1 = c.beta1;
  k.beta2 = c.beta2;
  k.eps = c.eps;
  return k;
}

// Adam, AdamW and Adamax keep two moments; they differ in the second moment (squared
// or infinity norm) and in where weight decay goes: into the gradient (L2) or
// straight onto the parameter before the update (AdamW, decoupled).
class AdamFamilyOptimizer final : public Optimizer {
 public:
  AdamFamilyOptimizer(const OptimizerConfig& config, int64_t n, Device device)
      : config_(config),
        rule_(config.name == "adamax" ? OptimizerRule::adamax : OptimizerRule::adam),
        decoupled_(config.name == "adamw"),
        exp_avg_(Tensor::zeros({n}, DType::f32, device)),
        second_(Tensor::zeros({n}, DType::f32, device)) {}

  int64_t size() const override { return exp_avg_.numel(); }
  std::vector<std::pair<std::string, Tensor*>> state() override {
    return {{"exp_avg", &exp_avg_}, {rule_ == OptimizerRule::adamax ? "exp_inf" : "exp_avg_sq", &second_}};
  }

  void step(Tensor& params, const Tensor& grads, double lr) override {
    FT_CHECK(params.numel() == size(), "optimizer of {} elements stepped over a range of {}", size(), params.numel());
    ++step_count_;
    OptimizerScalars k = moment_scalars(config_);
    const double t = double(step_count_);
    k.step_size = lr / (1.0 - std::pow(config_.beta1, t));
    if (rule_ == OptimizerRule::adam) k.bias_correction2_sqrt = std::sqrt(1.0 - std::pow(config_.beta2, t));
    k.l2 = decoupled_ ? 0.0 : config_.weight_decay;
    k.shrink = decoupled_ ? 1.0 - lr * config_.weight_decay : 1.0;
    kernels::optimizer_update(rule_, k, params, grads, exp_avg_, second_);
  }

 private:
  OptimizerConfig config_;
  OptimizerRule rule_;
  bool decoupled_;
  Tensor exp_avg_, second_;
};

// The ranges torch.optim accepts, reported under the config keys a user sets.
void validate(const OptimizerConfig& c) {
  if (!(c.beta1 >= 0.0 && c.beta1 < 1.0) || !(c.beta2 >= 0.0 && c.beta2 < 1.0))
    FT_FAIL("optim.betas: each beta must be in [0, 1), got [{}, {}]", c.beta1, c.beta2);
  if (!(c.eps >= 0.0)) FT_FAIL("optim.eps must be >= 0, got {}", c.eps);
  if (!(c.weight_decay >= 0.0)) FT_FAIL("optim.weight_decay must be >= 0, got {}", c.weight_decay);
}

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config, int64_t n, Device device) {
  FT_CHECK(n >= 0, "optimizer range size must be >= 0, got {}", n);
  validate(config);
  if (config.name != "adamw" && config.name != "adam" && config.name != "adamax")
    FT_FAIL("optim.name: unknown optimizer '{}' (expected adamw, adam or adamax)", config.name);
  return std::make_unique<AdamFamilyOptimizer>(config, n, device);
}

}  // namespace ft::optim
