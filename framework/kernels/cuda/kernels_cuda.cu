// The CUDA backend: copies, fills, element-wise math, last-dim sums and GEMM, in
// one translation unit so CI compiles a single .cu.
//
// Element-wise kernels instantiate the functors of functors.h, the templates the
// CPU kernels run, so the CPU tests check this math. Every kernel and copy goes
// to the legacy default stream of the tensor's device: it orders each op after the
// ones before it, which is what lets the caching allocator hand a freed block out
// again at once (see cuda_allocator.h).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

#include "framework/kernels/cuda/cuda_allocator.h"
#include "framework/kernels/cuda/cuda_check.h"
#include "framework/kernels/cuda/kernels_cuda.h"
#include "framework/kernels/dispatch.h"
#include "framework/kernels/kernel_shapes.h"
#include "framework/kernels/kernels.h"

namespace ft::kernels {

namespace {

constexpr int kMaxDims = 8;
constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 65536;  // grid-stride loops cover larger tensors


// ---- strided indexing ------------------------------------------------------------------

// Maps a linear index over a logical shape to element offsets in N operands.
// Passed by value as a kernel argument (a few hundred bytes).
template <int N>
struct Indexer {
  int ndim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[N][kMaxDims] = {};

  __device__ __forceinline__ void offsets(int64_t linear, int64_t (&out)[N]) const {
#pragma unroll
    for (int k = 0; k < N; ++k) out[k] = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      // The outermost dim takes what is left: one division fewer, none for 1-D.
      int64_t i = linear;
      if (d > 0) {
        i = linear % sizes[d];
        linear /= sizes[d];
      }
#pragma unroll
      for (int k = 0; k < N; ++k) out[k] += i * strides[k][d];
    }
  }
};

// The dims merged as on the CPU (merge_dims), so dense tensors index as one flat
// dim and views of up to 8 unmergeable dims fit.
template <int N>
Indexer<N> make_indexer(const Shape& shape, const std::array<Strides, N>& strides) {
  const StridedLayout<size_t(N)> layout = merge_dims<size_t(N)>(shape, strides);
  const Shape& sizes = layout.sizes;
  FT_CHECK(sizes.size() <= size_t(kMaxDims),
           "CUDA kernels index at most {} non-mergeable dims; shape {} has {}; make the input contiguous",
           kMaxDims, shape_str(shape), sizes.size());
  Indexer<N> ix;
  ix.ndim = int(sizes.size());
  for (size_t d = 0; d < sizes.size(); ++d) {
    ix.sizes[d] = sizes[d];
    for (int k = 0; k < N; ++k) ix.strides[k][d] = layout.strides[size_t(k)][d];
  }
  return ix;
}

unsigned grid_for(int64_t n) { return unsigned(std::min((n + kThreads - 1) / kThreads, kMaxBlocks)); }

__device__ __forceinline__ int64_t first_index() { return int64_t(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t grid_stride() { return int64_t(gridDim.x) * blockDim.x; }

// ---- kernels ------------------------------------------------------------------------------

template <class D, class S>
__global__ void copy_kernel(D* out, const S* in, Indexer<2> ix, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    int64_t off[2];
    ix.offsets(i, off);
    out[off[0]] = convert_element<D>(in[off[1]]);
  }
}

template <class T>
__global__ void fill_kernel(T* out, T value, Indexer<1> ix, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    int64_t off[1];
    ix.offsets(i, off);
    out[off[0]] = value;
  }
}

template <UnaryOp op, class T>
__global__ void unary_kernel(T* out, const T* x, T p, Indexer<2> ix, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    int64_t off[2];
    ix.offsets(i, off);
    out[off[0]] = ::ft::unary_forward<op>(x[off[1]], p);
  }
}

template <UnaryOp op, class T>
__global__ void unary_backward_kernel(T* out, const T* x, const T* y, const T* g, T p, Indexer<4> ix,
                                      int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    int64_t off[4];
    ix.offsets(i, off);
    out[off[0]] = ::ft::unary_backward<op>(x[off[1]], y[off[2]], g[off[3]], p);
  }
}

template <BinaryOp op, class T>
__global__ void binary_kernel(T* out, const T* a, const T* b, Indexer<3> ix, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    int64_t off[3];
    ix.offsets(i, off);
    out[off[0]] = ::ft::binary_forward<op>(a[off[1]], b[off[2]]);
  }
}

// One block per row (grid-stride over rows): threads stride along the row and
// accumulate in f64 like the CPU sum, then the block reduces through warp
// shuffles and one shared slot per warp.
template <class T>
__global__ void sum_rows_kernel(T* out, const T* in, Indexer<1> rows_ix, int64_t rows, int64_t length,
                                int64_t stride) {
  __shared__ double warp_sums[kThreads / 32];
  const int lane = int(threadIdx.x) % 32;
  const int warp = int(threadIdx.x) / 32;
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    int64_t base[1];
    rows_ix.offsets(r, base);
    double acc = 0.0;
    for (int64_t i = threadIdx.x; i < length; i += blockDim.x) acc += double(in[base[0] + i * stride]);
    for (int shift = 16; shift > 0; shift >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, shift);
    if (lane == 0) warp_sums[warp] = acc;
    __syncthreads();
    if (warp == 0) {
      acc = lane < kThreads / 32 ? warp_sums[lane] : 0.0;
      for (int shift = 16; shift > 0; shift >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, shift);
      if (lane == 0) out[r] = T(acc);
    }
    __syncthreads();  // warp_sums is rewritten for the next row
  }
}

// ---- host helpers -------------------------------------------------------------------------

bool on_cuda(const Tensor& t) { return t.device().kind == DeviceKind::cuda; }

// Makes the tensor's device current for this thread: launches, cudaMalloc and the
// cuBLAS handle act on the current device.
void use_device(Device device) {
  FT_CHECK(device.kind == DeviceKind::cuda, "CUDA kernel on a {} tensor", device.str());
  int current = -1;
  FT_CUDA_CHECK(cudaGetDevice(&current));
  if (current != device.index) FT_CUDA_CHECK(cudaSetDevice(device.index));
}

void check_same_device(const Tensor& a, const Tensor& b, const char* what) {
  FT_CHECK(a.device() == b.device(), "{} between tensors on {} and {}", what, a.device().str(),
           b.device().str());
}


// Copy between two tensors of one shape on one device, converting dtype.
void device_copy(const Tensor& dst, const Tensor& src) {
  check_same_device(dst, src, "device copy");
  const int64_t n = dst.numel();
  if (n == 0) return;
  use_device(dst.device());
  if (dst.dtype() == src.dtype() && dst.is_contiguous() && src.is_contiguous()) {
    FT_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), dst.nbytes(), cudaMemcpyDeviceToDevice, 0));
    return;
  }
  Indexer<2> ix = make_indexer<2>(dst.shape(), {dst.strides(), src.strides()});
  dispatch_dtype(dst.dtype(), [&](auto d_tag) {
    using D = decltype(d_tag);
    dispatch_dtype(src.dtype(), [&](auto s_tag) {
      using S = decltype(s_tag);
      copy_kernel<D, S><<<grid_for(n), kThreads, 0, 0>>>(typed<D>(dst), typed<S>(src), ix, n);
      FT_CUDA_CHECK_LAUNCH();
    });
  });
}

// A dense tensor on src's device holding src in dtype.
Tensor dense_on_device(const Tensor& src, DType dtype) {
  if (src.dtype() == dtype && src.is_contiguous()) return src;
  Tensor out = Tensor::empty(src.shape(), dtype, src.device());
  device_copy(out, src);
  return out;
}

}  // namespace

// ---- copies and fills ---------------------------------------------------------------------

void cuda_copy_into(Tensor& dst, const Tensor& src) {
  if (dst.numel() == 0) return;
  const Tensor source = src.shape() == dst.shape() ? src.detach() : src.detach().expand(dst.shape());

  if (on_cuda(dst) && on_cuda(source)) {
    if (dst.device() == source.device()) {
      device_copy(dst, source);
      return;
    }
    // Across devices: lay the source out densely in dst's dtype on its own device,
    // move the bytes peer to peer, then place them with dst's strides.
    Tensor staged = dense_on_device(source, dst.dtype());
    Tensor landed = dst.is_contiguous() ? dst : Tensor::empty(dst.shape(), dst.dtype(), dst.device());
    use_device(dst.device());
    FT_CUDA_CHECK(cudaMemcpyPeer(landed.raw_data(), dst.device().index, staged.raw_data(),
                                 staged.device().index, dst.nbytes()));
    if (!landed.same(dst)) device_copy(dst, landed);
    return;
  }

  if (on_cuda(dst)) {
    // Host -> device. Move the source's own (un-broadcast) elements densely in its
    // own dtype, so what crosses the bus is exactly the source's bytes; broadcasting
    // and conversion then run on the device with the rules above.
    use_device(dst.device());
    Tensor host = src.is_contiguous() ? src : kernels::copy(src);
    if (src.shape() == dst.shape() && src.dtype() == dst.dtype() && dst.is_contiguous()) {
      FT_CUDA_CHECK(cudaMemcpy(dst.raw_data(), host.raw_data(), dst.nbytes(), cudaMemcpyHostToDevice));
      return;
    }
    Tensor staged = Tensor::empty(src.shape(), src.dtype(), dst.device());
    if (staged.numel() > 0)
      FT_CUDA_CHECK(cudaMemcpy(staged.raw_data(), host.raw_data(), staged.nbytes(), cudaMemcpyHostToDevice));
    device_copy(dst, src.shape() == dst.shape() ? staged : staged.expand(dst.shape()));
    return;
  }

  // Device -> host: convert and lay out on the device, move dst's bytes, and let
  // the CPU place them when dst is a strided view.
  FT_CHECK(on_cuda(source) && dst.device().kind == DeviceKind::cpu, "copy from {} to {}",
           source.device().str(), dst.device().str());
  use_device(source.device());
  Tensor dense = dense_on_device(source, dst.dtype());
  if (dst.is_contiguous()) {
    FT_CUDA_CHECK(cudaMemcpy(dst.raw_data(), dense.raw_data(), dst.nbytes(), cudaMemcpyDeviceToHost));
    return;
  }
  Tensor host = Tensor::empty(dst.shape(), dst.dtype());
  FT_CUDA_CHECK(cudaMemcpy(host.raw_data(), dense.raw_data(), host.nbytes(), cudaMemcpyDeviceToHost));
  kernels::copy_into(dst, host);
}

void cuda_fill(Tensor& dst, double value) {
  const int64_t n = dst.numel();
  if (n == 0) return;
  use_device(dst.device());
  Indexer<1> ix = make_indexer<1>(dst.shape(), {dst.strides()});
  dispatch_dtype(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    fill_kernel<T><<<grid_for(n), kThreads, 0, 0>>>(typed<T>(dst), convert_element<T>(value), ix, n);
    FT_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace ft::kernels

namespace ft::kernels::cuda {

// ---- element-wise ------------------------------------------------------------------------

Tensor unary(UnaryOp op, const Tensor& x, double p) {
  check_float(x, "unary op");
  use_device(x.device());
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  const int64_t n = x.numel();
  if (n == 0) return out;
  Indexer<2> ix = make_indexer<2>(x.shape(), {out.strides(), x.strides()});
  dispatch_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      dispatch_unary(op, [&](auto op_tag) {
        constexpr UnaryOp kOp = decltype(op_tag)::value;
        unary_kernel<kOp, T><<<grid_for(n), kThreads, 0, 0>>>(typed<T>(out), typed<T>(x), T(p), ix, n);
        FT_CUDA_CHECK_LAUNCH();
      });
    }
  });
  return out;
}

Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& grad, double p) {
  check_float(grad, "unary backward");
  // x or y may be undefined when the formula does not use them; grad stands in.
  const Tensor& xs = x.defined() ? x : grad;
  const Tensor& ys = y.defined() ? y : grad;
  for (const Tensor* t : {&xs, &ys}) {
    check_same_device(*t, grad, "unary backward");
    FT_CHECK(t->dtype() == grad.dtype() && t->shape() == grad.shape(),
             "unary backward: input {} {} against gradient {} {}", dtype_name(t->dtype()), shape_str(t->shape()),
             dtype_name(grad.dtype()), shape_str(grad.shape()));
  }
  use_device(grad.device());
  Tensor out = Tensor::empty(grad.shape(), grad.dtype(), grad.device());
  const int64_t n = grad.numel();
  if (n == 0) return out;
  Indexer<4> ix = make_indexer<4>(grad.shape(), {out.strides(), xs.strides(), ys.strides(), grad.strides()});
  dispatch_dtype(grad.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      dispatch_unary(op, [&](auto op_tag) {
        constexpr UnaryOp kOp = decltype(op_tag)::value;
        unary_backward_kernel<kOp, T><<<grid_for(n), kThreads, 0, 0>>>(
            typed<T>(out), typed<T>(xs), typed<T>(ys), typed<T>(grad), T(p), ix, n);
        FT_CUDA_CHECK_LAUNCH();
      });
    }
  });
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  check_float(a, "binary op");
  check_same_device(a, b, "binary op");
  FT_CHECK(a.dtype() == b.dtype(), "binary op between {} and {}", dtype_name(a.dtype()), dtype_name(b.dtype()));
  Shape shape = broadcast_shapes(a.shape(), b.shape());
  // Broadcast operands read through stride-0 dims; nothing is materialised.
  Tensor ea = a.shape() == shape ? a : a.detach().expand(shape);
  Tensor eb = b.shape() == shape ? b : b.detach().expand(shape);
  use_device(a.device());
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  const int64_t n = out.numel();
  if (n == 0) return out;
  Indexer<3> ix = make_indexer<3>(shape, {out.strides(), ea.strides(), eb.strides()});
  dispatch_dtype(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      dispatch_binary(op, [&](auto op_tag) {
        constexpr BinaryOp kOp = decltype(op_tag)::value;
        binary_kernel<kOp, T><<<grid_for(n), kThreads, 0, 0>>>(typed<T>(out), typed<T>(ea), typed<T>(eb), ix, n);
        FT_CUDA_CHECK_LAUNCH();
      });
    }
  });
  return out;
}

// ---- reductions ----------------------------------------------------------------------------

Tensor sum_last_dim(const Tensor& x, bool keepdim) {
  check_float(x, "sum over the last dim");
  FT_CHECK(x.dim() >= 1, "sum over the last dim of a 0-d tensor");
  use_device(x.device());
  Shape rows_shape(x.shape().begin(), x.shape().end() - 1);
  Strides rows_strides(x.strides().begin(), x.strides().end() - 1);
  Shape out_shape = rows_shape;
  if (keepdim) out_shape.push_back(1);
  Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
  const int64_t rows = numel_of(rows_shape);
  if (rows == 0) return out;
  const int64_t length = x.shape().back();
  const int64_t stride = x.strides().back();
  Indexer<1> ix = make_indexer<1>(rows_shape, {rows_strides});
  dispatch_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      unsigned blocks = unsigned(std::min(rows, kMaxBlocks));
      sum_rows_kernel<T><<<blocks, kThreads, 0, 0>>>(typed<T>(out), typed<T>(x), ix, rows, length, stride);
      FT_CUDA_CHECK_LAUNCH();
    }
  });
  return out;
}

// Any dims: the reduced dims are moved last and flattened into one (a dense copy
// on the device when the view does not merge), then summed as one last dim.
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  std::vector<bool> reduced(x.shape().size(), false);
  for (int64_t d : dims) reduced[size_t(normalize_dim(d, x.shape().size()))] = true;
  std::vector<int64_t> order;
  Shape rows_shape, out_shape;
  int64_t reduced_count = 1;
  for (size_t d = 0; d < reduced.size(); ++d) {
    if (reduced[d]) {
      reduced_count *= x.shape()[d];
      if (keepdim) out_shape.push_back(1);
    } else {
      order.push_back(int64_t(d));
      rows_shape.push_back(x.shape()[d]);
      out_shape.push_back(x.shape()[d]);
    }
  }
  for (size_t d = 0; d < reduced.size(); ++d)
    if (reduced[d]) order.push_back(int64_t(d));
  rows_shape.push_back(reduced_count);
  Tensor rows = x.detach().permute(order).reshape(rows_shape);
  return sum_last_dim(rows, false).reshape(out_shape);
}

// ---- GEMM ------------------------------------------------------------------------------------

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
    cuda_fill(out, 0.0);
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

void synchronize(int device_index) {
  use_device(Device::cuda(device_index));
  FT_CUDA_CHECK(cudaDeviceSynchronize());
}

// The kernels this file has, for every GPU. The CUDA matmul keeps to f32 and f64:
// its bf16/f16 GEMM returns the input dtype, where kernels::matmul promises f32.
void register_kernels(KernelTable& table) {
  table.copy_into.add(DeviceKind::cuda, cuda_copy_into, kAllDTypes);
  table.fill.add(DeviceKind::cuda, cuda_fill, kAllDTypes);
  table.unary.add(DeviceKind::cuda, unary, kFloat32And64);
  table.unary_backward.add(DeviceKind::cuda, unary_backward, kFloat32And64);
  table.binary.add(DeviceKind::cuda, binary, kFloat32And64);
  table.sum.add(DeviceKind::cuda, sum, kFloat32And64);
  table.matmul.add(DeviceKind::cuda, matmul, kFloat32And64);
}

}  // namespace ft::kernels::cuda
