// Reductions on the GPU: sums over any dims, through one row-sum kernel that
// accumulates in f64 like the CPU sum; the maximum along one dim with its index.
#include <cuda_runtime.h>

#include <type_traits>
#include <vector>

#include "framework/kernels/cuda/cuda_check.h"
#include "framework/kernels/cuda/cuda_device.h"
#include "framework/kernels/cuda/cuda_launch.cuh"
#include "framework/kernels/cuda/kernels_cuda.h"
#include "framework/kernels/dispatch.h"

namespace ft::kernels::cuda {

namespace {

// One block per row (grid-stride over rows): threads stride along the row and
// accumulate in f64, then the block reduces.
template <class T>
__global__ void sum_rows_kernel(T* out, const T* in, Indexer<1> rows_ix, int64_t rows, int64_t length,
                                int64_t stride) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    int64_t base[1];
    rows_ix.offsets(r, base);
    double acc = 0.0;
    for (int64_t i = threadIdx.x; i < length; i += blockDim.x) acc += double(in[base[0] + i * stride]);
    acc = block_sum(acc);
    if (threadIdx.x == 0) out[r] = T(acc);
  }
}

// Whether candidate (vb, jb) beats the running maximum (va, ja) under the CPU's
// rule: a NaN beats every number, and among equals (NaNs included) the first index
// wins. That is the maximum of one total order, so lanes that each scan their own
// elements and then combine in any order agree with the CPU's one ascending scan.
// An index of -1 marks a lane without elements.
template <class T>
__device__ __forceinline__ bool beats(T va, int64_t ja, T vb, int64_t jb) {
  if (jb < 0) return false;
  if (ja < 0) return true;
  const bool a_nan = va != va, b_nan = vb != vb;
  if (a_nan || b_nan) return b_nan && (!a_nan || jb < ja);
  return vb > va || (vb == va && jb < ja);
}

// One warp per output (grid-stride over outputs): each lane scans j = lane, lane +
// 32, ... along the reduced dim, then the lanes combine through shuffles.
template <class T>
__global__ void max_kernel(T* values, int64_t* indices, const T* in, Indexer<1> kept_ix, int64_t n_out,
                           int64_t n, int64_t stride) {
  const int lane = int(threadIdx.x) % 32;
  const int64_t warps = grid_stride() / 32;
  for (int64_t o = first_index() / 32; o < n_out; o += warps) {
    int64_t base[1];
    kept_ix.offsets(o, base);
    T best = T(0);
    int64_t best_j = -1;
    for (int64_t j = lane; j < n; j += 32) {
      const T v = in[base[0] + j * stride];
      if (beats(best, best_j, v, j)) {
        best = v;
        best_j = j;
      }
    }
    for (int shift = 16; shift > 0; shift >>= 1) {
      const T v = __shfl_down_sync(0xffffffffu, best, shift);
      const int64_t j = __shfl_down_sync(0xffffffffu, best_j, shift);
      if (beats(best, best_j, v, j)) {
        best = v;
        best_j = j;
      }
    }
    if (lane == 0) {
      values[o] = best;
      if (indices) indices[o] = best_j;
    }
  }
}

}  // namespace

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

Tensor max(const Tensor& x, int64_t dim, bool keepdim, Tensor* indices) {
  check_float(x, "max");
  const int d = normalize_dim(dim, x.shape().size());
  const int64_t n = x.shape()[size_t(d)];
  FT_CHECK(n > 0, "max over an empty dimension {}", d);
  Shape kept_shape, out_shape;
  Strides kept_strides;
  for (size_t i = 0; i < x.shape().size(); ++i) {
    if (int(i) == d) {
      if (keepdim) out_shape.push_back(1);
      continue;
    }
    kept_shape.push_back(x.shape()[i]);
    kept_strides.push_back(x.strides()[i]);
    out_shape.push_back(x.shape()[i]);
  }
  use_device(x.device());
  Tensor values = Tensor::empty(out_shape, x.dtype(), x.device());
  Tensor idx = indices ? Tensor::empty(out_shape, DType::i64, x.device()) : Tensor();
  const int64_t n_out = numel_of(kept_shape);
  if (n_out > 0) {
    Indexer<1> ix = make_indexer<1>(kept_shape, {kept_strides});
    const int64_t stride = x.strides()[size_t(d)];
    dispatch_dtype(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_floating_point_v<T>) {
        int64_t* pi = indices ? typed<int64_t>(idx) : nullptr;
        max_kernel<T><<<grid_for(n_out * 32), kThreads, 0, 0>>>(typed<T>(values), pi, typed<T>(x), ix, n_out, n,
                                                                stride);
        FT_CUDA_CHECK_LAUNCH();
      }
    });
  }
  if (indices) *indices = idx;
  return values;
}

void register_reduce(KernelTable& table) {
  table.sum.add(DeviceKind::cuda, sum, kFloat32And64);
  table.max.add(DeviceKind::cuda, max, kFloat32And64);
}

}  // namespace ft::kernels::cuda
