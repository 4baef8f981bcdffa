// The loops of vector_loops.h, included once per instruction set by a translation
// unit that defines FT_VECTOR_ISA (its namespace) and is compiled with that ISA's
// flags. Every loop is [[gnu::flatten]]: the shared inline math (functors.h,
// fast_math.h) is inlined into it, so this file emits no out-of-line copy of a
// shared inline function that the linker could hand to code of another ISA.
#ifndef FT_VECTOR_ISA
#error "define FT_VECTOR_ISA before including vector_loops_isa.h"
#endif
#include <bit>
#include <cmath>
#include <limits>

#include "framework/core/half.h"
#include "framework/kernels/cpu/fast_math.h"
#include "framework/kernels/cpu/vector_loops.h"

namespace ft::kernels::vector_loops::FT_VECTOR_ISA {

template <UnaryOp kOp>
[[gnu::flatten]] void unary_loop(const float* x, float* y, int64_t n, float p) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = ::ft::unary_forward<kOp, float, CpuMath>(x[i], p);
}

template <UnaryOp kOp>
[[gnu::flatten]] void unary_backward_loop(const float* x, const float* y, const float* g, float* out, int64_t n,
                                          float p) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) out[i] = ::ft::unary_backward<kOp, float, CpuMath>(x[i], y[i], g[i], p);
}

void unary(UnaryOp op, const float* x, float* y, int64_t n, float p) {
  dispatch_unary(op, [&](auto tag) { unary_loop<decltype(tag)::value>(x, y, n, p); });
}

void unary_backward(UnaryOp op, const float* x, const float* y, const float* g, float* out, int64_t n, float p) {
  dispatch_unary(op, [&](auto tag) { unary_backward_loop<decltype(tag)::value>(x, y, g, out, n, p); });
}

[[gnu::flatten]] void float_to_bf16(const float* x, uint16_t* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = bf16::from_float(x[i]);
}

[[gnu::flatten]] void bf16_to_float(const uint16_t* x, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = std::bit_cast<float>(uint32_t(x[i]) << 16);
}

// Sums over 16 lanes, lane l taking elements l, l + 16, ..., then a fixed tree: the
// same order whatever the vector width (SSE2 runs it as four 4-wide vectors).
constexpr int kLanes = 16;

template <class A>
[[gnu::always_inline]] inline A lane_tree_sum(A* lanes) {
  for (int width = kLanes / 2; width >= 1; width /= 2)
    for (int l = 0; l < width; ++l) lanes[l] += lanes[l + width];
  return lanes[0];
}

[[gnu::always_inline]] inline float dot(const float* a, const float* b, int64_t n) {
  float lanes[kLanes] = {};
  int64_t c = 0;
  for (; c + kLanes <= n; c += kLanes) {
#pragma omp simd
    for (int l = 0; l < kLanes; ++l) lanes[l] += a[c + l] * b[c + l];
  }
  for (int l = 0; c + l < n; ++l) lanes[l] += a[c + l] * b[c + l];
  return lane_tree_sum(lanes);
}

// Values accumulate in chunks of this many channels held in registers across the keys
// (accumulating into out itself would wait on a store per key).
constexpr int64_t kValueChunk = 64;

[[gnu::flatten]] void attention_row(const float* q, const float* k, const float* v, int64_t keys, int64_t d,
                                    int64_t row_stride, float scale, float* scores, float* out) {
  float top = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < keys; ++j) {
    scores[j] = dot(q, k + j * row_stride, d) * scale;
    top = scores[j] > top ? scores[j] : top;
  }
#pragma omp simd
  for (int64_t j = 0; j < keys; ++j) scores[j] = kernels::fast::exp(scores[j] - top);
  float lanes[kLanes] = {};
  int64_t j0 = 0;
  for (; j0 + kLanes <= keys; j0 += kLanes) {
#pragma omp simd
    for (int l = 0; l < kLanes; ++l) lanes[l] += scores[j0 + l];
  }
  for (int l = 0; j0 + l < keys; ++l) lanes[l] += scores[j0 + l];
  const float inverse_total = 1.0f / lane_tree_sum(lanes);
  for (int64_t j = 0; j < keys; ++j) scores[j] *= inverse_total;
  for (int64_t c0 = 0; c0 < d; c0 += kValueChunk) {
    float acc[kValueChunk] = {};
    if (d - c0 >= kValueChunk) {
      for (int64_t j = 0; j < keys; ++j) {
        const float* vj = v + j * row_stride + c0;
#pragma omp simd
        for (int64_t c = 0; c < kValueChunk; ++c) acc[c] += scores[j] * vj[c];
      }
    } else {
      for (int64_t j = 0; j < keys; ++j)
        for (int64_t c = 0; c < d - c0; ++c) acc[c] += scores[j] * v[j * row_stride + c0 + c];
    }
    for (int64_t c = 0; c < kValueChunk && c0 + c < d; ++c) out[c0 + c] = acc[c];
  }
}

// sum over i of f(i) for i < n, in double over the 16 lanes.
template <class F>
[[gnu::always_inline]] inline double lane_sum(int64_t n, F f) {
  double lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
#pragma omp simd
    for (int l = 0; l < kLanes; ++l) lanes[l] += f(i + l);
  }
  for (int l = 0; i + l < n; ++l) lanes[l] += f(i + l);
  return lane_tree_sum(lanes);
}

[[gnu::flatten]] void layer_norm_row(const float* x, const float* w, const float* b, int64_t d, double eps,
                                     float* y, float* mean, float* rstd) {
  const double mu = lane_sum(d, [&](int64_t i) { return double(x[i]); }) / double(d);
  const double var = lane_sum(d, [&](int64_t i) { return (double(x[i]) - mu) * (double(x[i]) - mu); }) / double(d);
  const double inv = 1.0 / std::sqrt(var + eps);
  *mean = float(mu);
  *rstd = float(inv);
#pragma omp simd
  for (int64_t i = 0; i < d; ++i) {
    const float xhat = float((double(x[i]) - mu) * inv);
    y[i] = xhat * (w ? w[i] : 1.0f) + (b ? b[i] : 0.0f);
  }
}

[[gnu::flatten]] void layer_norm_backward_row(const float* x, const float* g, const float* w, int64_t d,
                                              float mean, float rstd, float* grad_x, double* weight_sum,
                                              double* bias_sum) {
  const double mu = double(mean), inv = double(rstd);
  auto xhat = [&](int64_t i) { return (double(x[i]) - mu) * inv; };
  auto gh = [&](int64_t i) { return double(g[i]) * (w ? double(w[i]) : 1.0); };
  const double mean_g = lane_sum(d, gh) / double(d);
  const double mean_gx = lane_sum(d, [&](int64_t i) { return gh(i) * xhat(i); }) / double(d);
#pragma omp simd
  for (int64_t i = 0; i < d; ++i) {
    weight_sum[i] += double(g[i]) * xhat(i);
    bias_sum[i] += double(g[i]);
    grad_x[i] = float(inv * (gh(i) - mean_g - xhat(i) * mean_gx));
  }
}

const Table& table() {
  static const Table loops{FT_VECTOR_ISA_NAME, &unary, &unary_backward, &float_to_bf16, &bf16_to_float,
                           &attention_row, &layer_norm_row, &layer_norm_backward_row};
  return loops;
}

}  // namespace ft::kernels::vector_loops::FT_VECTOR_ISA
