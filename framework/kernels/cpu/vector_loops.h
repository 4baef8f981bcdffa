// Dense float loops compiled once per instruction set and chosen at start from the
// CPU's features, not at build time (a -march=native binary breaks on older
// machines): vector_loops_isa.h holds the loops, vector_loops_baseline.cpp
// compiles them for x86-64's SSE2 and vector_loops_avx512.cpp for AVX-512.
// Both compile without FMA contraction, so they return bit-identical results:
// only the vector width differs. FLOWTRAIN_CPU_ISA=baseline forces the baseline
// (for comparisons); the element-wise kernels call through best().
#pragma once
#include <cstdint>

#include "framework/kernels/functors.h"

namespace ft::kernels::vector_loops {

struct Table {
  const char* isa;  // "avx512" or "baseline"
  // y[i] = f(x[i]) for unit-stride arrays; p is pow's exponent.
  void (*unary)(UnaryOp op, const float* x, float* y, int64_t n, float p);
  // out[i] = g[i] * f'(x[i]) given y = f(x); x or y may alias g when op does not read them.
  void (*unary_backward)(UnaryOp op, const float* x, const float* y, const float* g, float* out, int64_t n, float p);
  // Conversions with bf16's rounding (framework/core/half.h): bit patterns in uint16_t.
  void (*float_to_bf16)(const float* x, uint16_t* y, int64_t n);
  void (*bf16_to_float)(const uint16_t* x, float* y, int64_t n);
  // One query row of attention over `keys` rows of k and v (width d, rows `row_stride`
  // floats apart): out = softmax(scale * k q) v, with scores (keys floats) as scratch.
  // Sums run in a fixed order of 16 lanes, so every instruction set gives the same bits.
  void (*attention_row)(const float* q, const float* k, const float* v, int64_t keys, int64_t d, int64_t row_stride,
                        float scale, float* scores, float* out);
  // Layer norm of one row of d floats (weight w and bias b may be null), with mean and
  // variance summed in double over 16 fixed lanes; mean and 1/std are returned.
  void (*layer_norm_row)(const float* x, const float* w, const float* b, int64_t d, double eps, float* y,
                         float* mean, float* rstd);
  // Its backward for one row: grad_x, and g * xhat and g added to the weight's and the
  // bias's gradient sums (double, d each).
  void (*layer_norm_backward_row)(const float* x, const float* g, const float* w, int64_t d, float mean,
                                  float rstd, float* grad_x, double* weight_sum, double* bias_sum);
};

const Table& baseline();
const Table* avx512();  // null when this CPU lacks AVX-512 (F, BW, DQ, VL)
const Table& best();    // AVX-512 where available, unless FLOWTRAIN_CPU_ISA=baseline

}  // namespace ft::kernels::vector_loops
