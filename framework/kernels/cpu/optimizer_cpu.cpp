// The optimizer's kernels on the CPU: the update rules of optimizer_functors.h over
// flat ranges, the EMA, in-place scaling and the blocked squared norm.
#include <algorithm>
#include <cmath>
#include <vector>

#include "framework/kernels/dispatch.h"
#include "framework/kernels/optimizer_functors.h"

namespace ft::kernels::cpu {

namespace {

// Below this many elements starting the threads costs more than the work.
constexpr int64_t kParallelThreshold = int64_t{1} << 15;

template <class T>
struct Range {
  T* params;
  const T* grads;
  T* first;
  T* second;
  int64_t n;
};

// Each loop is compiled twice: for CPUs with FMA, where fma is one instruction, and
// generic, where it is a libm call (several times slower). fma is exactly rounded
// either way, so the result does not depend on the CPU. The OpenMP loop sits in the
// target function itself so that its outlined body inherits the target.
template <OptimizerRule rule, class T>
[[gnu::target("avx2,fma")]] void update_loop_fma(const RoundedScalars<T>& k, const Range<T>& r) {
#pragma omp parallel for schedule(static) if (r.n >= kParallelThreshold)
  for (int64_t i = 0; i < r.n; ++i) optimizer_element<rule>(k, r.params, r.grads, r.first, r.second, i);
}

template <OptimizerRule rule, class T>
void update_loop_generic(const RoundedScalars<T>& k, const Range<T>& r) {
#pragma omp parallel for schedule(static) if (r.n >= kParallelThreshold)
  for (int64_t i = 0; i < r.n; ++i) optimizer_element<rule>(k, r.params, r.grads, r.first, r.second, i);
}

bool cpu_has_fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

template <class T>
void update_typed(OptimizerRule rule, const OptimizerScalars& scalars, Tensor& params, const Tensor& grads,
                  Tensor& first, Tensor& second) {
  const RoundedScalars<T> k = rounded<T>(scalars);
  const Range<T> r{params.data<T>(), grads.data<T>(), first.data<T>(), second.data<T>(), params.numel()};
  constexpr auto adam = OptimizerRule::adam, adamax = OptimizerRule::adamax;
  if (rule == adam) cpu_has_fma() ? update_loop_fma<adam>(k, r) : update_loop_generic<adam>(k, r);
  else cpu_has_fma() ? update_loop_fma<adamax>(k, r) : update_loop_generic<adamax>(k, r);
}

void optimizer_update(OptimizerRule rule, const OptimizerScalars& scalars, Tensor& params, const Tensor& grads,
                      Tensor& first, Tensor& second) {
  if (params.dtype() == DType::f64) update_typed<double>(rule, scalars, params, grads, first, second);
  else update_typed<float>(rule, scalars, params, grads, first, second);
}

template <class Body>
void for_each_element(int64_t n, const Body& body) {
#pragma omp parallel for schedule(static) if (n >= kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) body(i);
}

template <class T>
void ema_typed(Tensor& shadow, const Tensor& params, double decay) {
  T* s = shadow.data<T>();
  const T* p = params.data<T>();
  const double take = 1.0 - decay;
  for_each_element(shadow.numel(), [&](int64_t i) { s[i] = ema_element(s[i], p[i], decay, take); });
}

void ema_update(Tensor& shadow, const Tensor& params, double decay) {
  if (shadow.dtype() == DType::f64) ema_typed<double>(shadow, params, decay);
  else ema_typed<float>(shadow, params, decay);
}

template <class T>
void scale_typed(Tensor& x, double factor) {
  T* v = x.data<T>();
  for_each_element(x.numel(), [&](int64_t i) { v[i] = scaled_element(v[i], factor); });
}

void scale_inplace(Tensor& x, double factor) {
  if (x.dtype() == DType::f64) scale_typed<double>(x, factor);
  else scale_typed<float>(x, factor);
}

template <class T>
double squared_norm_typed(const Tensor& x) {
  const T* values = x.data<T>();
  const int64_t n = x.numel();
  const int64_t blocks = (n + kSquaredNormBlock - 1) / kSquaredNormBlock;
  std::vector<double> partial(size_t(blocks), 0.0);
#pragma omp parallel for schedule(static) if (blocks > 1)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t end = std::min(n, (b + 1) * kSquaredNormBlock);
    double sum = 0.0;
    for (int64_t i = b * kSquaredNormBlock; i < end; ++i) sum += double(values[i]) * double(values[i]);
    partial[size_t(b)] = sum;
  }
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

double squared_norm(const Tensor& x) {
  return x.dtype() == DType::f64 ? squared_norm_typed<double>(x) : squared_norm_typed<float>(x);
}

}  // namespace

void register_optimizer(KernelTable& table) {
  table.optimizer_update.add(DeviceKind::cpu, optimizer_update, kFloat32And64);
  table.ema_update.add(DeviceKind::cpu, ema_update, kFloat32And64);
  table.scale_inplace.add(DeviceKind::cpu, scale_inplace, kFloat32And64);
  table.squared_norm.add(DeviceKind::cpu, squared_norm, kFloat32And64);
}

}  // namespace ft::kernels::cpu
