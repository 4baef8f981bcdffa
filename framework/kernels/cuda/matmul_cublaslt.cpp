// Matrix products on the GPU through cuBLASLt, with the operand layout planned by
// the host code the CPU shares (kernel_shapes.h). f32 runs in true fp32
// (CUBLAS_COMPUTE_32F: no TF32), f64 in fp64, and bf16/f16 inputs accumulate in
// fp32 and are written as f32, as kernels::matmul promises. linear's bias rides in
// cuBLASLt's epilogue. Descriptors and the heuristic's algorithm are cached per
// problem; the workspace comes from the caching allocator.
#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "framework/kernels/cuda/cuda_check.h"
#include "framework/kernels/cuda/cuda_device.h"
#include "framework/kernels/cuda/kernels_cuda.h"
#include "framework/kernels/dispatch.h"
#include "framework/kernels/kernel_shapes.h"

namespace ft::kernels::cuda {

namespace {

// Hopper's recommended cuBLASLt workspace; the heuristic may choose less.
constexpr uint64_t kMaxWorkspaceBytes = uint64_t(32) << 20;
// cuBLASLt's default alignment assumption for every pointer (its heuristic
// preferences): views starting inside a block may be less aligned.
constexpr uint32_t kFullAlignment = 256;

// One cuBLASLt handle per device, created on first use with that device current.
// Never destroyed, like the allocators: destroying after the runtime unloads fails.
cublasLtHandle_t cublaslt_handle(int device_index) {
  static std::mutex mutex;
  static auto* handles = new std::vector<cublasLtHandle_t>();
  std::lock_guard lock(mutex);
  if (handles->size() <= size_t(device_index)) handles->resize(size_t(device_index) + 1, nullptr);
  cublasLtHandle_t& handle = (*handles)[size_t(device_index)];
  if (!handle) FT_CUBLAS_CHECK(cublasLtCreate(&handle));
  return handle;
}

// A batched matrix operand as a row-major GEMM sees it: matrices with leading
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

// Makes the last two dims GEMM-compatible (unit stride on one of them) and the
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

// The largest power of two (up to cuBLASLt's 256) dividing the address of every
// batch entry: the first one's and the byte stride between them.
uint32_t alignment_of(const void* ptr, int64_t batch_stride_bytes = 0) {
  const uint64_t bits = uint64_t(reinterpret_cast<uintptr_t>(ptr)) | uint64_t(batch_stride_bytes);
  uint32_t alignment = kFullAlignment;
  while (alignment > 1 && bits % alignment != 0) alignment /= 2;
  return alignment;
}

// ---- descriptors, RAII ------------------------------------------------------------

struct MatmulDescDeleter {
  void operator()(cublasLtMatmulDescOpaque_t* d) const { (void)cublasLtMatmulDescDestroy(d); }
};
struct LayoutDeleter {
  void operator()(cublasLtMatrixLayoutOpaque_t* d) const { (void)cublasLtMatrixLayoutDestroy(d); }
};
struct PreferenceDeleter {
  void operator()(cublasLtMatmulPreferenceOpaque_t* d) const { (void)cublasLtMatmulPreferenceDestroy(d); }
};
using MatmulDesc = std::unique_ptr<cublasLtMatmulDescOpaque_t, MatmulDescDeleter>;
using MatrixLayout = std::unique_ptr<cublasLtMatrixLayoutOpaque_t, LayoutDeleter>;
using Preference = std::unique_ptr<cublasLtMatmulPreferenceOpaque_t, PreferenceDeleter>;

template <class T>
void set_attribute(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attribute, const T& value) {
  FT_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, attribute, &value, sizeof(value)));
}

template <class T>
void set_attribute(cublasLtMatrixLayout_t layout, cublasLtMatrixLayoutAttribute_t attribute, const T& value) {
  FT_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(layout, attribute, &value, sizeof(value)));
}

template <class T>
void set_attribute(cublasLtMatmulPreference_t preference, cublasLtMatmulPreferenceAttributes_t attribute,
                   const T& value) {
  FT_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(preference, attribute, &value, sizeof(value)));
}

// ---- the problem and its cached plan ------------------------------------------------

// Everything a plan depends on, in cuBLASLt's column-major terms: D [rows, cols]
// = op(A) [rows, depth] @ op(B) [depth, cols] (+ bias [rows]), batched.
struct GemmKey {
  int device = 0;
  DType input = DType::f32, output = DType::f32;
  bool transpose_a = false, transpose_b = false, bias = false;
  uint64_t rows = 0, cols = 0, depth = 0;
  uint64_t ld_a = 0, ld_b = 0;
  int32_t batches = 1;
  int64_t stride_a = 0, stride_b = 0;
  uint32_t align_a = 0, align_b = 0, align_d = 0;
  auto operator<=>(const GemmKey&) const = default;
};

struct GemmPlan {
  MatmulDesc desc;
  MatrixLayout a, b, d;  // C is D (beta is 0, or D already holds the bias)
  cublasLtMatmulAlgo_t algo{};
  size_t workspace_bytes = 0;
  bool bias_in_epilogue = false;
};

cudaDataType_t cuda_type(DType dtype) {
  switch (dtype) {
    case DType::f32: return CUDA_R_32F;
    case DType::f64: return CUDA_R_64F;
    case DType::bf16: return CUDA_R_16BF;
    case DType::f16: return CUDA_R_16F;
    default: FT_FAIL("cuBLASLt matmul of {}", dtype_name(dtype));
  }
}

MatrixLayout make_layout(DType dtype, uint64_t rows, uint64_t cols, uint64_t ld, int32_t batches, int64_t stride) {
  cublasLtMatrixLayout_t raw = nullptr;
  FT_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&raw, cuda_type(dtype), rows, cols, int64_t(ld)));
  MatrixLayout layout(raw);
  set_attribute(layout.get(), CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, batches);
  set_attribute(layout.get(), CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, stride);
  return layout;
}

// f64 adds its bias through C (D prefilled, beta 1): cuBLASLt's bias epilogue is
// for the fp32 and half GEMMs.
bool epilogue_takes_bias(const GemmKey& key) { return key.bias && key.input != DType::f64; }

GemmPlan make_plan(const GemmKey& key, cublasLtHandle_t handle) {
  GemmPlan plan;
  const bool f64 = key.input == DType::f64;
  cublasLtMatmulDesc_t raw = nullptr;
  FT_CUBLAS_CHECK(cublasLtMatmulDescCreate(&raw, f64 ? CUBLAS_COMPUTE_64F : CUBLAS_COMPUTE_32F,
                                           f64 ? CUDA_R_64F : CUDA_R_32F));
  plan.desc.reset(raw);
  const cublasOperation_t op_a = key.transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = key.transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  set_attribute(plan.desc.get(), CUBLASLT_MATMUL_DESC_TRANSA, op_a);
  set_attribute(plan.desc.get(), CUBLASLT_MATMUL_DESC_TRANSB, op_b);
  plan.bias_in_epilogue = epilogue_takes_bias(key);
  if (plan.bias_in_epilogue) {
    // The bias is [rows] of D's dtype (cuBLASLt's default bias type), one per
    // output feature: D's rows are the row-major product's columns.
    set_attribute(plan.desc.get(), CUBLASLT_MATMUL_DESC_EPILOGUE, CUBLASLT_EPILOGUE_BIAS);
  }
  // The stored (pre-transpose) shapes of A and B.
  plan.a = key.transpose_a ? make_layout(key.input, key.depth, key.rows, key.ld_a, key.batches, key.stride_a)
                           : make_layout(key.input, key.rows, key.depth, key.ld_a, key.batches, key.stride_a);
  plan.b = key.transpose_b ? make_layout(key.input, key.cols, key.depth, key.ld_b, key.batches, key.stride_b)
                           : make_layout(key.input, key.depth, key.cols, key.ld_b, key.batches, key.stride_b);
  plan.d = make_layout(key.output, key.rows, key.cols, key.rows, key.batches, int64_t(key.rows * key.cols));

  cublasLtMatmulPreference_t raw_preference = nullptr;
  FT_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&raw_preference));
  Preference preference(raw_preference);
  set_attribute(preference.get(), CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, kMaxWorkspaceBytes);
  set_attribute(preference.get(), CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, key.align_a);
  set_attribute(preference.get(), CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, key.align_b);
  set_attribute(preference.get(), CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, key.align_d);
  set_attribute(preference.get(), CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, key.align_d);
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  FT_CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(handle, plan.desc.get(), plan.a.get(), plan.b.get(), plan.d.get(),
                                                 plan.d.get(), preference.get(), 1, &result, &found));
  FT_CHECK(found > 0 && result.state == CUBLAS_STATUS_SUCCESS,
           "cuBLASLt has no algorithm for a {} GEMM of {}x{}x{} ({} batches)", dtype_name(key.input), key.rows,
           key.cols, key.depth, key.batches);
  plan.algo = result.algo;
  plan.workspace_bytes = result.workspaceSize;
  return plan;
}

// Plans by problem, for every device. The lock is held through the launch: the
// bias pointer is set on the cached descriptor per call.
struct PlanCache {
  std::mutex mutex;
  std::map<GemmKey, GemmPlan> plans;
};

PlanCache& plan_cache() {
  static auto* cache = new PlanCache();  // never destroyed, like the handles
  return *cache;
}

int32_t checked_batches(int64_t batches) {
  FT_CHECK(batches <= int64_t(INT32_MAX), "GEMM batch count {} does not fit cuBLASLt's 32-bit int", batches);
  return int32_t(batches);
}

// bias, when defined, in out's dtype, dense and at cuBLASLt's full alignment.
Tensor bias_for(const Tensor& bias, const Tensor& out) {
  if (!bias.defined()) return bias;
  Tensor b = dense_on_device(bias, out.dtype());
  if (alignment_of(b.raw_data()) < kFullAlignment) {
    Tensor aligned = Tensor::empty(b.shape(), b.dtype(), b.device());
    device_copy(aligned, b);
    b = aligned;
  }
  return b;
}

// out [batch..., m, n] = op(a) @ op(b) (+ bias [n] on every row).
Tensor gemm(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b, const Tensor& bias) {
  check_same_device(a, b, "matmul");
  const DType dtype = a.dtype();
  FT_CHECK(dtype == b.dtype() &&
               (dtype == DType::f32 || dtype == DType::f64 || dtype == DType::bf16 || dtype == DType::f16),
           "CUDA matmul of {} and {} (needs both f32, f64, bf16 or f16)", dtype_name(a.dtype()),
           dtype_name(b.dtype()));
  const MatmulShape s = plan_matmul(a, b, transpose_a, transpose_b);
  use_device(a.device());
  const DType out_dtype = dtype == DType::f64 ? DType::f64 : DType::f32;
  Tensor out = Tensor::empty(s.out, out_dtype, a.device());
  if (out.numel() == 0) return out;
  const Tensor bias_dense = bias_for(bias, out);
  if (s.k == 0 || (bias.defined() && dtype == DType::f64)) {
    // The product's starting value: zeros, or the bias in every row (f64's C).
    if (bias.defined()) device_copy(out, bias_dense.expand(s.out));
    else fill(out, 0.0);
    if (s.k == 0) return out;
  }
  const GemmOperand ga = as_gemm_operand(a.detach().expand(s.a_full), transpose_a, s.batch);
  const GemmOperand gb = as_gemm_operand(b.detach().expand(s.b_full), transpose_b, s.batch);

  // Row-major C = A B is column-major C^T = B^T A^T: cuBLASLt's A is our B, its B
  // our A. A row-major matrix with leading dimension ld is the column-major
  // transpose with the same ld, so each operand's own transpose flag carries over.
  GemmKey key;
  key.device = a.device().index;
  key.input = dtype;
  key.output = out_dtype;
  key.transpose_a = gb.transposed;
  key.transpose_b = ga.transposed;
  key.bias = bias.defined();
  key.rows = uint64_t(s.n);
  key.cols = uint64_t(s.m);
  key.depth = uint64_t(s.k);
  key.ld_a = uint64_t(gb.ld);
  key.ld_b = uint64_t(ga.ld);
  key.batches = checked_batches(numel_of(s.batch));
  key.stride_a = gb.batch_stride;
  key.stride_b = ga.batch_stride;
  const int64_t in_bytes = int64_t(dtype_size(dtype)), out_bytes = int64_t(dtype_size(out_dtype));
  key.align_a = alignment_of(gb.storage.raw_data(), gb.batch_stride * in_bytes);
  key.align_b = alignment_of(ga.storage.raw_data(), ga.batch_stride * in_bytes);
  key.align_d = alignment_of(out.raw_data(), s.m * s.n * out_bytes);

  cublasLtHandle_t handle = cublaslt_handle(key.device);
  PlanCache& cache = plan_cache();
  std::lock_guard lock(cache.mutex);
  auto it = cache.plans.find(key);
  if (it == cache.plans.end()) it = cache.plans.emplace(key, make_plan(key, handle)).first;
  const GemmPlan& plan = it->second;
  if (plan.bias_in_epilogue) {
    const void* bias_ptr = bias_dense.raw_data();
    set_attribute(plan.desc.get(), CUBLASLT_MATMUL_DESC_BIAS_POINTER, bias_ptr);
  }
  // Freed at the end of the call: the caching allocator hands it out again only
  // to work queued after this GEMM on the same stream.
  Tensor workspace;
  if (plan.workspace_bytes > 0)
    workspace = Tensor::empty({int64_t(plan.workspace_bytes)}, DType::u8, a.device());
  void* workspace_ptr = plan.workspace_bytes > 0 ? workspace.raw_data() : nullptr;
  const bool beta_one = bias.defined() && !plan.bias_in_epilogue;
  const float alpha32 = 1.0f, beta32 = beta_one ? 1.0f : 0.0f;
  const double alpha64 = 1.0, beta64 = beta_one ? 1.0 : 0.0;
  const bool f64 = dtype == DType::f64;
  FT_CUBLAS_CHECK(cublasLtMatmul(handle, plan.desc.get(), f64 ? static_cast<const void*>(&alpha64) : &alpha32,
                                 gb.storage.raw_data(), plan.a.get(), ga.storage.raw_data(), plan.b.get(),
                                 f64 ? static_cast<const void*>(&beta64) : &beta32, out.raw_data(), plan.d.get(),
                                 out.raw_data(), plan.d.get(), &plan.algo, workspace_ptr, plan.workspace_bytes,
                                 cudaStream_t(0)));
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b) {
  return gemm(a, b, transpose_a, transpose_b, Tensor());
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_same_device(x, weight, "linear");
  if (bias.defined()) check_same_device(x, bias, "linear");
  const LinearShape s = plan_linear(x, weight, bias);
  return gemm(x.detach().reshape({s.rows, s.in}), weight, false, true, bias).reshape(s.y);
}

void register_matmul(KernelTable& table) {
  table.matmul.add(DeviceKind::cuda, matmul, kFloating);
  table.linear.add(DeviceKind::cuda, linear, kFloating);
}

}  // namespace ft::kernels::cuda
