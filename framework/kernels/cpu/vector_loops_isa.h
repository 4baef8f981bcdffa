// The loops of vector_loops.h, included once per instruction set by a translation
// unit that defines FT_VECTOR_ISA (its namespace) and is compiled with that ISA's
// flags. Every loop is [[gnu::flatten]]: the shared inline math (functors.h,
// fast_math.h) is inlined into it, so this file emits no out-of-line copy of a
// shared inline function that the linker could hand to code of another ISA.
#ifndef FT_VECTOR_ISA
#error "define FT_VECTOR_ISA before including vector_loops_isa.h"
#endif
#include <bit>

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

const Table& table() {
  static const Table loops{FT_VECTOR_ISA_NAME, &unary, &unary_backward, &float_to_bf16, &bf16_to_float};
  return loops;
}

}  // namespace ft::kernels::vector_loops::FT_VECTOR_ISA
