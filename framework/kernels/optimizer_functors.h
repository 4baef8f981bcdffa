// The optimizer's element math written once for host and device: the CPU loops
// (kernels/cpu/optimizer_cpu.cpp) and the CUDA kernels (kernels/cuda/optimizer_cuda.cu)
// instantiate these functions, so the CPU tests check the numbers a GPU computes.
//
// Every scalar is rounded to T once (RoundedScalars), and every element operation
// follows torch.optim's single-tensor path (mul_ then add_, addcmul_, addcdiv_) as
// torch computes it in f32. torch's AVX2 kernels fuse add_(x, alpha) and addcmul_
// into fused multiply-adds, so those are fma here: an unfused product and sum differs
// in the last bit and the difference compounds over steps. Every other product and
// sum must stay unfused, which is why the CUDA file is compiled with -fmad=false.
#pragma once
#include <cmath>
#include <cstdint>

#include "framework/core/half.h"

namespace ft {

enum class OptimizerRule { adam, adamax };

// One step's scalars, computed by the optimizer in f64 on the host.
struct OptimizerScalars {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double l2 = 0.0;                     // weight decay added to the gradient (Adam, Adamax)
  double shrink = 1.0;                 // AdamW: 1 - lr * weight_decay, applied to the parameter first
  double step_size = 0.0;              // lr / (1 - beta1^t)
  double bias_correction2_sqrt = 1.0;  // sqrt(1 - beta2^t); Adamax leaves it at 1, unused
};

template <class T>
struct RoundedScalars {
  T beta1, one_minus_beta1, beta2, one_minus_beta2, eps, l2, shrink, step_size, bias_correction2_sqrt;
};

// 1 - beta is taken in f64 and rounded once, as torch does with a Python float.
template <class T>
RoundedScalars<T> rounded(const OptimizerScalars& k) {
  return {T(k.beta1), T(1.0 - k.beta1), T(k.beta2), T(1.0 - k.beta2), T(k.eps),
          T(k.l2),    T(k.shrink),      T(k.step_size), T(k.bias_correction2_sqrt)};
}

// Element i of one optimizer's range: parameter p, gradient g, first moment m and
// second moment (Adam: squared, Adamax: infinity norm) s.
template <OptimizerRule rule, class T>
FT_HOST_DEVICE void optimizer_element(const RoundedScalars<T>& k, T* p, const T* g, T* m, T* s, int64_t i) {
  using std::fabs; using std::fma; using std::fmax; using std::sqrt;
  if constexpr (rule == OptimizerRule::adam) {
    const T param = p[i] * k.shrink;
    const T grad = fma(k.l2, param, g[i]);
    m[i] = fma(k.one_minus_beta1, grad, m[i] * k.beta1);
    s[i] = fma(k.one_minus_beta2 * grad, grad, s[i] * k.beta2);
    const T denom = sqrt(s[i]) / k.bias_correction2_sqrt + k.eps;
    p[i] = param + -k.step_size * m[i] / denom;
  } else {
    // torch.optim.Adamax: eps inside the max, bias correction on the first moment only.
    const T param = p[i];
    const T grad = fma(k.l2, param, g[i]);
    m[i] = fma(k.one_minus_beta1, grad, m[i] * k.beta1);
    s[i] = fmax(s[i] * k.beta2, fabs(grad) + k.eps);
    p[i] = param + -k.step_size * m[i] / s[i];
  }
}

// shadow = decay*shadow + (1-decay)*param in f64 with one rounding: at decay 0.9999
// the f32 product (1-decay)*param would lose the low bits every step.
template <class T>
FT_HOST_DEVICE T ema_element(T shadow, T param, double keep, double take) {
  return T(keep * double(shadow) + take * double(param));
}

// x * factor in f64, rounded once (loss unscaling, clipping).
template <class T>
FT_HOST_DEVICE T scaled_element(T x, double factor) {
  return T(double(x) * factor);
}

// squared_norm sums fixed blocks of this many elements, then the blocks in order, so
// its result depends neither on the thread count nor on the launch configuration.
inline constexpr int64_t kSquaredNormBlock = int64_t{1} << 14;

}  // namespace ft
