// Matrix products through oneDNN's matmul primitive, for bf16 inputs (AVX512-BF16
// or AMX kernels chosen by oneDNN at run time; OpenBLAS would need them widened
// to f32 first) and f32. Same contract as kernels::matmul: batch dims broadcast,
// transposes as flags, f32 output.
#pragma once
#include "framework/core/tensor.h"

namespace ft::kernels {

// a and b of one dtype, f32 or bf16.
bool onednn_matmul_supports(const Tensor& a, const Tensor& b);
// out_dtype: f32, or bf16 for bf16 operands (the f32 accumulator rounded once).
Tensor onednn_matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b,
                     const Tensor& bias = Tensor(), DType out_dtype = DType::f32);

}  // namespace ft::kernels
