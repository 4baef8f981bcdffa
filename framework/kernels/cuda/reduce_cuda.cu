// Reductions on the GPU: sums over any dims, through one row-sum kernel that
// accumulates in f64 like the CPU sum.
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

void register_reduce(KernelTable& table) { table.sum.add(DeviceKind::cuda, sum, kFloat32And64); }

}  // namespace ft::kernels::cuda
