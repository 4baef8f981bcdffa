// Launch helpers for the CUDA kernels (.cu files only): the strided indexer that
// maps a linear element index to offsets in several operands, laid out by the
// same dim merging as the CPU (kernel_shapes.h), and grid-stride loop bounds.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include "framework/core/check.h"
#include "framework/core/tensor.h"
#include "framework/kernels/kernel_shapes.h"

namespace ft::kernels::cuda {

constexpr int kMaxDims = 8;
constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 65536;  // grid-stride loops cover larger tensors

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

inline unsigned grid_for(int64_t n) { return unsigned(std::min((n + kThreads - 1) / kThreads, kMaxBlocks)); }

__device__ __forceinline__ int64_t first_index() { return int64_t(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t grid_stride() { return int64_t(gridDim.x) * blockDim.x; }

// v combined over the block (blockDim.x == kThreads) by the associative op(a, b),
// through warp shuffles and one shared slot per warp, the warps' results combined
// in warp order; every thread gets the result, in an order fixed by the block
// size, so results repeat run to run. The block must call it uniformly; it
// synchronises before returning so the slots can be reused.
template <class T, class Op>
__device__ __forceinline__ T block_reduce(T v, Op op) {
  __shared__ T warp_results[kThreads / 32];
  const int lane = int(threadIdx.x) % 32;
  const int warp = int(threadIdx.x) / 32;
  for (int shift = 16; shift > 0; shift >>= 1) v = op(v, __shfl_down_sync(0xffffffffu, v, shift));
  if (lane == 0) warp_results[warp] = v;
  __syncthreads();
  T total = warp_results[0];
#pragma unroll
  for (int w = 1; w < kThreads / 32; ++w) total = op(total, warp_results[w]);
  __syncthreads();
  return total;
}

template <class T>
__device__ __forceinline__ T block_sum(T v) {
  return block_reduce(v, [](T a, T b) { return a + b; });
}

// The larger of a and b, a NaN losing to any number: a running maximum from -inf
// through it skips NaNs, as the CPU's `v > m ? v : m` does, in any order.
template <class T>
__device__ __forceinline__ T max_skipping_nan(T a, T b) {
  return b > a || a != a ? b : a;
}

template <class T>
__device__ __forceinline__ T block_max(T v) {
  return block_reduce(v, [](T a, T b) { return max_skipping_nan(a, b); });
}

}  // namespace ft::kernels::cuda
