#include "framework/optim/optimizer.h"

#include <cmath>

#include "framework/core/check.h"
#include "framework/optim/parallel.h"

namespace ft::optim {

void Optimizer::set_step_count(int64_t steps) {
  FT_CHECK(steps >= 0, "optimizer step count must be >= 0, got {}", steps);
  step_count_ = steps;
}

namespace {

// Every scalar is rounded to f32 once, and every element operation follows torch.optim's
// single-tensor path (mul_ then add_, addcmul_, addcdiv_) in f32, as torch computes it.
// torch's AVX2 kernels fuse add_(x, alpha) and addcmul_ into fused multiply-adds, so
// those are std::fma here: an unfused product and sum differs in the last bit and the
// difference compounds over steps. With this the trajectories agree bit for bit.
struct AdamScalars {
  float beta1, one_minus_beta1, beta2, one_minus_beta2, eps;
  float l2;                     // Adam: weight decay added to the gradient
  float shrink;                 // AdamW: 1 - lr * weight_decay, applied to the parameter first
  float step_size;              // lr / (1 - beta1^t)
  float bias_correction2_sqrt;  // sqrt(1 - beta2^t); Adamax leaves it at 1, unused
};

// One optimizer's range: the parameters and gradients, the first and second moment.
struct Range {
  float* params;
  const float* grads;
  float* m;
  float* second;
  int64_t n;
};

[[gnu::always_inline]] inline void adam_element(const AdamScalars& k, const Range& r, int64_t i) {
  const float p = r.params[i] * k.shrink;
  const float g = std::fma(k.l2, p, r.grads[i]);
  r.m[i] = std::fma(k.one_minus_beta1, g, r.m[i] * k.beta1);
  r.second[i] = std::fma(k.one_minus_beta2 * g, g, r.second[i] * k.beta2);
  const float denom = std::sqrt(r.second[i]) / k.bias_correction2_sqrt + k.eps;
  r.params[i] = p + -k.step_size * r.m[i] / denom;
}

// torch.optim.Adamax: infinity-norm second moment with eps inside the max, bias
// correction on the first moment only, L2 weight decay.
[[gnu::always_inline]] inline void adamax_element(const AdamScalars& k, const Range& r, int64_t i) {
  const float p = r.params[i];
  const float g = std::fma(k.l2, p, r.grads[i]);
  r.m[i] = std::fma(k.one_minus_beta1, g, r.m[i] * k.beta1);
  r.second[i] = std::fmax(r.second[i] * k.beta2, std::fabs(g) + k.eps);
  r.params[i] = p + -k.step_size * r.m[i] / r.second[i];
}

// Each loop is compiled twice: for CPUs with FMA, where std::fma is one instruction,
// and generic, where it is a libm call (several times slower). fma is exactly rounded
// either way, so the result does not depend on the CPU. The OpenMP loop sits in the
// target function itself so that its outlined body inherits the target.
[[gnu::target("avx2,fma")]] void adam_loop_fma(const AdamScalars& k, const Range& r) {
#pragma omp parallel for schedule(static) if (r.n >= detail::kParallelThreshold)
  for (int64_t i = 0; i < r.n; ++i) adam_element(k, r, i);
}

void adam_loop_generic(const AdamScalars& k, const Range& r) {
#pragma omp parallel for schedule(static) if (r.n >= detail::kParallelThreshold)
  for (int64_t i = 0; i < r.n; ++i) adam_element(k, r, i);
}

[[gnu::target("avx2,fma")]] void adamax_loop_fma(const AdamScalars& k, const Range& r) {
#pragma omp parallel for schedule(static) if (r.n >= detail::kParallelThreshold)
  for (int64_t i = 0; i < r.n; ++i) adamax_element(k, r, i);
}

void adamax_loop_generic(const AdamScalars& k, const Range& r) {
#pragma omp parallel for schedule(static) if (r.n >= detail::kParallelThreshold)
  for (int64_t i = 0; i < r.n; ++i) adamax_element(k, r, i);
}

bool cpu_has_fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

AdamScalars moment_scalars(const OptimizerConfig& c) {
  AdamScalars k{};
  k.beta1 = float(c.beta1);
  k.one_minus_beta1 = float(1.0 - c.beta1);
  k.beta2 = float(c.beta2);
  k.one_minus_beta2 = float(1.0 - c.beta2);
  k.eps = float(c.eps);
  k.shrink = 1.0f;
  k.bias_correction2_sqrt = 1.0f;
  return k;
}

// Adam and AdamW differ only in where weight decay goes: into the gradient (L2) or
// straight onto the parameter before the update (decoupled).
class AdamOptimizer final : public Optimizer {
 public:
  AdamOptimizer(const OptimizerConfig& config, int64_t n, bool decoupled)
      : config_(config), decoupled_(decoupled), exp_avg_(Tensor::zeros({n})), exp_avg_sq_(Tensor::zeros({n})) {}

  int64_t size() const override { return exp_avg_.numel(); }
  std::vector<std::pair<std::string, Tensor*>> state() override {
    return {{"exp_avg", &exp_avg_}, {"exp_avg_sq", &exp_avg_sq_}};
  }

  void step(float* params, const float* grads, double lr) override {
    ++step_count_;
    AdamScalars k = moment_scalars(config_);
    const double t = double(step_count_);
    k.step_size = float(lr / (1.0 - std::pow(config_.beta1, t)));
    k.bias_correction2_sqrt = float(std::sqrt(1.0 - std::pow(config_.beta2, t)));
    k.l2 = decoupled_ ? 0.0f : float(config_.weight_decay);
    k.shrink = decoupled_ ? float(1.0 - lr * config_.weight_decay) : 1.0f;
    const Range r{params, grads, exp_avg_.data<float>(), exp_avg_sq_.data<float>(), size()};
    cpu_has_fma() ? adam_loop_fma(k, r) : adam_loop_generic(k, r);
  }

 private:
  OptimizerConfig config_;
  bool decoupled_;
  Tensor exp_avg_, exp_avg_sq_;
};

class AdamaxOptimizer final : public Optimizer {
 public:
  AdamaxOptimizer(const OptimizerConfig& config, int64_t n)
      : config_(config), exp_avg_(Tensor::zeros({n})), exp_inf_(Tensor::zeros({n})) {}

  int64_t size() const override { return exp_avg_.numel(); }
  std::vector<std::pair<std::string, Tensor*>> state() override {
    return {{"exp_avg", &exp_avg_}, {"exp_inf", &exp_inf_}};
  }

  void step(float* params, const float* grads, double lr) override {
    ++step_count_;
    AdamScalars k = moment_scalars(config_);
    k.step_size = float(lr / (1.0 - std::pow(config_.beta1, double(step_count_))));
    k.l2 = float(config_.weight_decay);
    const Range r{params, grads, exp_avg_.data<float>(), exp_inf_.data<float>(), size()};
    cpu_has_fma() ? adamax_loop_fma(k, r) : adamax_loop_generic(k, r);
  }

 private:
  OptimizerConfig config_;
  Tensor exp_avg_, exp_inf_;
};

// The ranges torch.optim accepts, reported under the config keys a user sets.
void validate(const OptimizerConfig& c) {
  if (!(c.beta1 >= 0.0 && c.beta1 < 1.0) || !(c.beta2 >= 0.0 && c.beta2 < 1.0))
    FT_FAIL("optim.betas: each beta must be in [0, 1), got [{}, {}]", c.beta1, c.beta2);
  if (!(c.eps >= 0.0)) FT_FAIL("optim.eps must be >= 0, got {}", c.eps);
  if (!(c.weight_decay >= 0.0)) FT_FAIL("optim.weight_decay must be >= 0, got {}", c.weight_decay);
}

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config, int64_t n) {
  FT_CHECK(n >= 0, "optimizer range size must be >= 0, got {}", n);
  validate(config);
  if (config.name == "adamw") return std::make_unique<AdamOptimizer>(config, n, /*decoupled=*/true);
  if (config.name == "adam") return std::make_unique<AdamOptimizer>(config, n, /*decoupled=*/false);
  if (config.name == "adamax") return std::make_unique<AdamaxOptimizer>(config, n);
  FT_FAIL("optim.name: unknown optimizer '{}' (expected adamw, adam or adamax)", config.name);
}

}  // namespace ft::optim
