// Checks and shape arithmetic shared by the CPU and CUDA kernels, so both backends
// accept exactly the same inputs and name the same problems.
#pragma once
#include "framework/core/tensor.h"

namespace ft::kernels {

// C[b] = op(A[b]) @ op(B[b]): sizes of one product and the broadcast batch.
struct MatmulShape {
  int64_t m = 0, k = 0, n = 0;
  Shape batch;           // broadcast of both operands' batch dims
  Shape a_full, b_full;  // each operand expanded to the batch
  Shape out;             // batch + [m, n]
};

// Throws naming both shapes when an operand is not a matrix or the inner sizes differ.
MatmulShape plan_matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b);

inline void check_float(const Tensor& t, const char* what) {
  FT_CHECK(t.dtype() == DType::f32 || t.dtype() == DType::f64, "{} needs f32 or f64, got {}", what,
           dtype_name(t.dtype()));
}

template <class T>
T* typed(const Tensor& t) {
  return static_cast<T*>(t.raw_data());
}

}  // namespace ft::kernels
