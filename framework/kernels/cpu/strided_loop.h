// Parallel iteration over N strided operands sharing one logical shape. Dimensions
// that are contiguous for every operand are merged (merge_dims, kernel_shapes.h),
// so dense tensors run as one flat loop split across OpenMP threads.
#pragma once
#include <array>
#include <cstdint>

#include "framework/core/shape.h"
#include "framework/kernels/kernel_shapes.h"

namespace ft::kernels {

// Below this many elements, stay single-threaded. A vectorized element-wise pass
// over 128Ki floats takes ~50-100 us; an OpenMP fork/join with a passive wait
// policy costs tens of us, and on a loaded machine far more when the second
// thread has been descheduled. At 32Ki the tarflow-bench step ran slower on 2
// threads than on 1: most of its element-wise ops are 64Ki-512Ki elements.
constexpr int64_t kParallelGrain = 131072;

// body(std::array<int64_t, N> offsets, int64_t count, std::array<int64_t, N> inner_strides)
// processes `count` elements along the innermost merged dimension.
template <size_t N, class Body>
void for_each_strided(const Shape& shape, const std::array<Strides, N>& strides, Body&& body) {
  StridedLayout<N> layout = merge_dims<N>(shape, strides);
  const size_t nd = layout.sizes.size();
  const int64_t inner = layout.sizes.back();
  std::array<int64_t, N> inner_strides;
  for (size_t k = 0; k < N; ++k) inner_strides[k] = layout.strides[k].back();
  int64_t outer = 1;
  for (size_t d = 0; d + 1 < nd; ++d) outer *= layout.sizes[d];
  const int64_t block = 16384;
  const int64_t blocks_per_row = (inner + block - 1) / block;
  const int64_t tasks = outer * blocks_per_row;
  const bool parallel = outer * inner >= kParallelGrain && tasks > 1;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t task = 0; task < tasks; ++task) {
    int64_t row = task / blocks_per_row;
    int64_t begin = (task % blocks_per_row) * block;
    int64_t count = inner - begin < block ? inner - begin : block;
    std::array<int64_t, N> offsets{};
    int64_t rest = row;
    for (size_t d = nd - 1; d-- > 0;) {
      int64_t i = rest % layout.sizes[d];
      rest /= layout.sizes[d];
      for (size_t k = 0; k < N; ++k) offsets[k] += i * layout.strides[k][d];
    }
    for (size_t k = 0; k < N; ++k) offsets[k] += begin * inner_strides[k];
    body(offsets, count, inner_strides);
  }
}

}  // namespace ft::kernels
