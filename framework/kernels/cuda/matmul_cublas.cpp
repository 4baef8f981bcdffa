// Matrix products on the GPU through cuBLAS, with the operand layout planned by
// the host code the CPU shares (kernel_shapes.h).
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <mutex>
#include <vector>

#include "framework/kernels/cuda/cuda_check.h"
#include "framework/kernels/cuda/cuda_device.h"
#include "framework/kernels/cuda/kernels_cuda.h"
#include "framework/kernels/dispatch.h"
#include "framework/kernels/kernel_shapes.h"

namespace ft::kernels::cuda {

namespace {

// One cuBLAS handle per device, created on first use with that device current.
// Never destroyed, like the allocators: destroying after the runtime unloads fails.
cublasHandle_t cublas_handle(int device_index) {
  static std::mutex mutex;
  static auto* handles = new std::vector<cublasHandle_t>();
  std::lock_guard lock(mutex);
  if (handles->size() <= size_t(device_index)) handles->resize(size_t(device_index) + 1, nullptr);
  cublasHandle_t& handle = (*handles)[size_t(device_index)];
  if (!handle) {
    FT_CUBLAS_CHECK(cublasCreate(&handle));
    // The default stream orders GEMMs with our kernels. Default math mode keeps
    // f32 GEMMs in true fp32 (no TF32), so they match the CPU to 1e-5.
    FT_CUBLAS_CHECK(cublasSetStream(handle, 0));
    FT_CUBLAS_CHECK(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH));
  }
  return handle;
}

// A batched matrix operand as cuBLAS sees it: row-major matrices with leading
// dimension ld, one stride between batch entries, maybe transposed.
struct GemmOperand {
  Tensor storage;  // keeps the data alive
  bool transposed = false;
  int64_t ld = 0;
  int64_t batch_stride = 0;
};

// The single stride that walks a (merged) batch, if one exists: broadcast batches
// give 0, dense ones rows*cols.
bool uniform_batch_stride(const Shape& batch, const Strides& strides, int64_t* stride) {
  int64_t step = -1, span = 1;
  for (size_t d = batch.size(); d-- > 0;) {
    if (batch[d] == 1) continue;
    if (step < 0) {
      step = strides[d];
    } else if (strides[d] != step * span) {
      return false;
    }
    span *= batch[d];
  }
  *stride = step < 0 ? 0 : step;
  return true;
}

// Makes the last two dims cuBLAS-compatible (unit stride on one of them) and the
// batch dims one uniform stride, copying densely only when the view has neither.
GemmOperand as_gemm_operand(const Tensor& t, bool transpose, const Shape& batch) {
  const GemmLayout layout = plan_gemm_operand(t, transpose);
  Strides batch_strides(t.strides().begin(), t.strides().end() - 2);
  int64_t batch_stride = 0;
  if (!layout.needs_dense_copy && uniform_batch_stride(batch, batch_strides, &batch_stride))
    return {t, layout.transposed, layout.ld, batch_stride};
  Tensor dense = Tensor::empty(t.shape(), t.dtype(), t.device());
  device_copy(dense, t);
  const GemmLayout dense_layout = plan_gemm_operand(dense, transpose);
  return {dense, dense_layout.transposed, dense_layout.ld, t.size(-2) * t.size(-1)};
}

int checked_int(int64_t value, const char* what) {
  FT_CHECK(value >= 0 && value <= int64_t(INT32_MAX), "GEMM {} {} does not fit cuBLAS's 32-bit int", what, value);
  return int(value);
}

cudaDataType_t cuda_data_type(DType dtype) {
  return dtype == DType::bf16 ? CUDA_R_16BF : CUDA_R_16F;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b) {
  check_same_device(a, b, "matmul");
  const DType dtype = a.dtype();
  FT_CHECK(dtype == b.dtype() &&
               (dtype == DType::f32 || dtype == DType::f64 || dtype == DType::bf16 || dtype == DType::f16),
           "CUDA matmul of {} and {} (needs both f32, f64, bf16 or f16)", dtype_name(a.dtype()),
           dtype_name(b.dtype()));
  const MatmulShape s = plan_matmul(a, b, transpose_a, transpose_b);
  const int64_t m = s.m, k = s.k, n = s.n;
  const Shape& batch = s.batch;
  use_device(a.device());
  Tensor out = Tensor::empty(s.out, dtype, a.device());
  if (out.numel() == 0) return out;
  if (k == 0) {
    fill(out, 0.0);
    return out;
  }
  GemmOperand ga = as_gemm_operand(a.detach().expand(s.a_full), transpose_a, batch);
  GemmOperand gb = as_gemm_operand(b.detach().expand(s.b_full), transpose_b, batch);

  // Row-major C = A B is column-major C^T = B^T A^T: cuBLAS gets B first, and a
  // row-major matrix with leading dimension ld is the column-major transpose with
  // the same ld, so each operand's own transpose flag carries over unchanged.
  const cublasOperation_t op_first = gb.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_second = ga.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int cm = checked_int(n, "n"), cn = checked_int(m, "m"), ck = checked_int(k, "k");
  const int ld_first = checked_int(gb.ld, "leading dimension"), ld_second = checked_int(ga.ld, "leading dimension");
  const int batches = checked_int(numel_of(batch), "batch count");
  const long long stride_first = gb.batch_stride, stride_second = ga.batch_stride;
  const long long stride_out = m * n;
  cublasHandle_t handle = cublas_handle(a.device().index);
  const void* first = gb.storage.raw_data();
  const void* second = ga.storage.raw_data();

  if (dtype == DType::f32) {
    const float alpha = 1.0f, beta = 0.0f;
    FT_CUBLAS_CHECK(cublasSgemmStridedBatched(handle, op_first, op_second, cm, cn, ck, &alpha,
                                              static_cast<const float*>(first), ld_first, stride_first,
                                              static_cast<const float*>(second), ld_second, stride_second, &beta,
                                              typed<float>(out), cm, stride_out, batches));
  } else if (dtype == DType::f64) {
    const double alpha = 1.0, beta = 0.0;
    FT_CUBLAS_CHECK(cublasDgemmStridedBatched(handle, op_first, op_second, cm, cn, ck, &alpha,
                                              static_cast<const double*>(first), ld_first, stride_first,
                                              static_cast<const double*>(second), ld_second, stride_second,
                                              &beta, typed<double>(out), cm, stride_out, batches));
  } else {
    // Half-precision inputs, fp32 accumulation (CUBLAS_COMPUTE_32F takes float
    // alpha/beta), output rounded to the input dtype once.
    const float alpha = 1.0f, beta = 0.0f;
    const cudaDataType_t type = cuda_data_type(dtype);
    FT_CUBLAS_CHECK(cublasGemmStridedBatchedEx(handle, op_first, op_second, cm, cn, ck, &alpha, first, type,
                                               ld_first, stride_first, second, type, ld_second, stride_second,
                                               &beta, out.raw_data(), type, cm, stride_out, batches,
                                               CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  }
  return out;
}

// The CUDA matmul keeps to f32 and f64: its bf16/f16 GEMM returns the input
// dtype, where kernels::matmul promises f32.
void register_matmul(KernelTable& table) { table.matmul.add(DeviceKind::cuda, matmul, kFloat32And64); }

}  // namespace ft::kernels::cuda
