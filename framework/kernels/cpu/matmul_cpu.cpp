// Matrix products through OpenBLAS. Batched products loop over (broadcast) batch
// dims; many small matrices are spread across OpenMP threads, where OpenBLAS's
// OpenMP build runs each GEMM single-threaded.
#include "framework/kernels/cpu/blas.h"

#include "framework/kernels/cpu/matmul_onednn.h"
#include "framework/kernels/dispatch.h"
#include "framework/kernels/kernel_shapes.h"
#include "framework/kernels/kernels.h"

namespace ft::kernels::cpu {

namespace {

// A matrix operand as BLAS sees it: row-major with leading dimension, maybe transposed.
struct GemmOperand {
  Tensor storage;  // keeps the data alive
  bool transposed = false;
  int64_t ld = 0;
};

// Makes the last two dims BLAS-compatible: unit stride on one of them.
GemmOperand as_gemm_operand(const Tensor& t, bool transpose) {
  const GemmLayout layout = plan_gemm_operand(t, transpose);
  return {layout.needs_dense_copy ? copy(t) : t, layout.transposed, layout.ld};
}

int64_t batch_offset(int64_t index, const Shape& batch_shape, const Strides& strides) {
  int64_t offset = 0;
  for (size_t d = batch_shape.size(); d-- > 0;) {
    int64_t i = index % batch_shape[d];
    index /= batch_shape[d];
    offset += i * strides[d];
  }
  return offset;
}

// bf16 pairs run on oneDNN's bf16 kernels (OpenBLAS would widen them to f32), and
// so do f32 products of plain matrices: bench_framework's "linear" rows measured
// oneDNN's f32 kernels ahead of OpenBLAS's on every tarflow-bench shape, from 1.03x
// to 1.74x at m 32 and 1.03x to 1.14x at m 2048 (1 and 2 threads, AVX-512 EPYC).
// Batched f32 products stay on OpenBLAS, spread over batches below.
bool prefers_onednn(const Tensor& a, const Tensor& b) {
  return a.dtype() == DType::bf16 || (a.dim() == 2 && b.dim() == 2);
}

// Readies a and b for the path that serves them; true for oneDNN. Low-precision
// inputs without oneDNN kernels become exact f32 copies of the rounded values,
// accumulated in f32 and routed as f32 inputs are.
bool runs_on_onednn(Tensor& a, Tensor& b) {
  if (!onednn_matmul_supports(a, b)) a = upcast_half(a), b = upcast_half(b);
  return onednn_matmul_supports(a, b) && prefers_onednn(a, b);
}

}  // namespace

Tensor matmul(const Tensor& a_in, const Tensor& b_in, bool transpose_a, bool transpose_b) {
  Tensor a = a_in, b = b_in;
  if (runs_on_onednn(a, b)) return onednn_matmul(a, b, transpose_a, transpose_b);
  FT_CHECK(a.dtype() == b.dtype() && (a.dtype() == DType::f32 || a.dtype() == DType::f64),
           "matmul of {} and {} (needs both f32 or both f64)", dtype_name(a.dtype()), dtype_name(b.dtype()));
  const MatmulShape s = plan_matmul(a, b, transpose_a, transpose_b);
  const int64_t m = s.m, k = s.k, n = s.n;
  const Shape& batch = s.batch;
  Tensor ea = a.detach().expand(s.a_full);
  Tensor eb = b.detach().expand(s.b_full);
  GemmOperand ga = as_gemm_operand(ea, transpose_a);
  GemmOperand gb = as_gemm_operand(eb, transpose_b);
  Strides a_bs(ga.storage.strides().begin(), ga.storage.strides().end() - 2);
  Strides b_bs(gb.storage.strides().begin(), gb.storage.strides().end() - 2);

  Tensor out = Tensor::empty(s.out, a.dtype(), a.device());
  int64_t batches = numel_of(batch);
  if (out.numel() == 0) return out;
  if (k == 0) {
    out.fill_(0.0);
    return out;
  }
  dispatch_dtype(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* pa = static_cast<const T*>(ga.storage.raw_data());
      const T* pb = static_cast<const T*>(gb.storage.raw_data());
      T* pc = out.data<T>();
      bool spread = batches > 1 && m * n * k < (int64_t(1) << 22);
#pragma omp parallel for schedule(static) if (spread)
      for (int64_t i = 0; i < batches; ++i) {
        gemm<T>(ga.transposed, gb.transposed, m, n, k, T(1), pa + batch_offset(i, batch, a_bs), ga.ld,
                pb + batch_offset(i, batch, b_bs), gb.ld, T(0), pc + i * m * n, n);
      }
    }
  });
  return out;
}

// One product of [rows, in] by weight^T. Where oneDNN serves it the bias rides in
// oneDNN's epilogue (the f32 accumulator plus the bias, rounded once: the same
// numbers as the add after the product); elsewhere it is added after the GEMM.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  const LinearShape s = plan_linear(x, weight, bias);
  const Tensor x2 = x.detach().reshape({s.rows, s.in});
  Tensor a = x2, b = weight.detach();
  if (runs_on_onednn(a, b)) return onednn_matmul(a, b, false, true, bias).reshape(s.y);
  Tensor y2 = matmul(a, b, false, true);  // a and b as runs_on_onednn readied them
  if (bias.defined()) add_inplace(y2, bias, 1.0);
  return y2.reshape(s.y);
}

void register_matmul(KernelTable& table) {
  table.matmul.add(DeviceKind::cpu, matmul, kFloating);
  table.linear.add(DeviceKind::cpu, linear, kFloating);
}

}  // namespace ft::kernels::cpu
