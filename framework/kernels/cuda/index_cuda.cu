// Gathering and scattering whole slices along one dim on the GPU, tensors viewed
// as [outer, n, inner] as on the CPU (index_cpu.cpp).
//
// Indices live on the device. Before any slice is read, one kernel finds the first
// position whose index is out of range and the host reads that position back (one
// small synchronising copy per call): a bad index is an ft::Error naming it, never
// a read outside the tensor.
//
// index_add is deterministic without atomics: the positions are sorted by index
// (CUB's radix sort is stable, so equal indices keep ascending position order),
// each output slice finds its run of sources by binary search and sums them in
// that order from zero, the CPU's order of additions, so the two agree to the bit.
#include <cub/device/device_radix_sort.cuh>
#include <cuda_runtime.h>

#include <algorithm>
#include <limits>
#include <type_traits>

#include "framework/kernels/cuda/cuda_check.h"
#include "framework/kernels/cuda/cuda_device.h"
#include "framework/kernels/cuda/cuda_launch.cuh"
#include "framework/kernels/cuda/kernels_cuda.h"
#include "framework/kernels/dispatch.h"

namespace ft::kernels::cuda {

namespace {

struct SliceGeometry {
  int64_t outer, n, inner;  // a tensor viewed as [outer, n, inner]
};

SliceGeometry split_at(const Shape& shape, int d) {
  SliceGeometry g{1, shape[size_t(d)], 1};
  for (int i = 0; i < d; ++i) g.outer *= shape[size_t(i)];
  for (size_t i = size_t(d) + 1; i < shape.size(); ++i) g.inner *= shape[i];
  return g;
}

constexpr unsigned long long kNoBadPosition = std::numeric_limits<unsigned long long>::max();

template <class I>
__global__ void find_bad_index_kernel(unsigned long long* first_bad, const I* index, int64_t m, int64_t limit) {
  for (int64_t i = first_index(); i < m; i += grid_stride()) {
    const int64_t v = int64_t(index[i]);
    if (v < 0 || v >= limit) atomicMin(first_bad, static_cast<unsigned long long>(i));
  }
}

template <class I>
int64_t element_at(const Tensor& dense_index, unsigned long long position) {
  I value{};
  FT_CUDA_CHECK(cudaMemcpy(&value, typed<I>(dense_index) + position, sizeof(I), cudaMemcpyDeviceToHost));
  return int64_t(value);
}

// The index dense on its device, every entry checked to lie in [0, limit).
Tensor checked_indices(const Tensor& index, const Tensor& data, int64_t limit) {
  FT_CHECK(index.dim() == 1, "index must be 1-d, got {}", shape_str(index.shape()));
  FT_CHECK(index.dtype() == DType::i64 || index.dtype() == DType::i32, "index must be i64 or i32, got {}",
           dtype_name(index.dtype()));
  check_same_device(index, data, "indexing");
  use_device(index.device());
  Tensor dense = dense_on_device(index, index.dtype());
  const int64_t m = dense.numel();
  if (m == 0) return dense;
  Tensor first_bad = Tensor::empty({1}, DType::i64, dense.device());
  FT_CUDA_CHECK(cudaMemsetAsync(first_bad.raw_data(), 0xff, sizeof(unsigned long long), 0));  // kNoBadPosition
  auto* flag = static_cast<unsigned long long*>(first_bad.raw_data());
  const bool wide = dense.dtype() == DType::i64;
  if (wide) find_bad_index_kernel<int64_t><<<grid_for(m), kThreads, 0, 0>>>(flag, typed<int64_t>(dense), m, limit);
  else find_bad_index_kernel<int32_t><<<grid_for(m), kThreads, 0, 0>>>(flag, typed<int32_t>(dense), m, limit);
  FT_CUDA_CHECK_LAUNCH();
  unsigned long long position = kNoBadPosition;
  FT_CUDA_CHECK(cudaMemcpy(&position, flag, sizeof(position), cudaMemcpyDeviceToHost));
  if (position != kNoBadPosition) {
    const int64_t bad = wide ? element_at<int64_t>(dense, position) : element_at<int32_t>(dense, position);
    FT_CHECK(bad >= 0 && bad < limit, "index {} out of range [0, {})", bad, limit);
  }
  return dense;
}

template <class T, class I>
__global__ void index_select_kernel(T* out, const T* x, const I* index, SliceGeometry g, int64_t m,
                                    int64_t count) {
  const int64_t slice = m * g.inner;
  for (int64_t e = first_index(); e < count; e += grid_stride()) {
    const int64_t o = e / slice, rest = e % slice;
    const int64_t i = rest / g.inner, c = rest % g.inner;
    out[e] = x[(o * g.n + int64_t(index[i])) * g.inner + c];
  }
}

template <class I>
__global__ void sort_input_kernel(uint64_t* keys, int64_t* positions, const I* index, int64_t m) {
  for (int64_t i = first_index(); i < m; i += grid_stride()) {
    keys[i] = uint64_t(index[i]);
    positions[i] = i;
  }
}

// run_start[j] = the first sorted position whose key is >= j, for j in [0, n].
__global__ void run_starts_kernel(int64_t* run_start, const uint64_t* sorted_keys, int64_t m, int64_t n) {
  for (int64_t j = first_index(); j <= n; j += grid_stride()) {
    int64_t lo = 0, hi = m;
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      if (sorted_keys[mid] < uint64_t(j)) lo = mid + 1;
      else hi = mid;
    }
    run_start[j] = lo;
  }
}

template <class T>
__global__ void index_add_kernel(T* out, const T* src, const int64_t* sorted_positions, const int64_t* run_start,
                                 SliceGeometry g, int64_t m, int64_t count) {
  const int64_t slice = g.n * g.inner;
  for (int64_t e = first_index(); e < count; e += grid_stride()) {
    const int64_t a = e / slice, rest = e % slice;
    const int64_t j = rest / g.inner, c = rest % g.inner;
    T acc = T(0);
    for (int64_t p = run_start[j]; p < run_start[j + 1]; ++p) acc += src[(a * m + sorted_positions[p]) * g.inner + c];
    out[e] = acc;
  }
}

template <class I>
void launch_sort_input(uint64_t* keys, int64_t* positions, const Tensor& index, int64_t m) {
  sort_input_kernel<I><<<grid_for(m), kThreads, 0, 0>>>(keys, positions, typed<I>(index), m);
  FT_CUDA_CHECK_LAUNCH();
}

// The positions 0..m-1 sorted stably by their index, and where each index's run
// of positions starts ([n + 1], the last entry m).
struct SourceRuns {
  Tensor sorted_positions, run_start;
};

SourceRuns runs_by_index(const Tensor& index, int64_t n) {
  const int64_t m = index.numel();
  const Device device = index.device();
  Tensor keys = Tensor::empty({m}, DType::i64, device), sorted_keys = Tensor::empty({m}, DType::i64, device);
  Tensor positions = Tensor::empty({m}, DType::i64, device);
  SourceRuns runs{Tensor::empty({m}, DType::i64, device), Tensor::empty({n + 1}, DType::i64, device)};
  auto* key_in = static_cast<uint64_t*>(keys.raw_data());
  auto* key_out = static_cast<uint64_t*>(sorted_keys.raw_data());
  if (index.dtype() == DType::i64) launch_sort_input<int64_t>(key_in, typed<int64_t>(positions), index, m);
  else launch_sort_input<int32_t>(key_in, typed<int64_t>(positions), index, m);
  // Keys are below n (checked): sorting their low bits only is enough.
  int end_bit = 1;
  while (end_bit < 64 && (uint64_t(n - 1) >> end_bit) != 0) ++end_bit;
  size_t temp_bytes = 0;
  FT_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, key_in, key_out, typed<int64_t>(positions),
                                                typed<int64_t>(runs.sorted_positions), m, 0, end_bit, 0));
  // At least one byte: a null buffer would make CUB only size the work again.
  Tensor temp = Tensor::empty({int64_t(std::max<size_t>(temp_bytes, 1))}, DType::u8, device);
  FT_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.raw_data(), temp_bytes, key_in, key_out,
                                                typed<int64_t>(positions), typed<int64_t>(runs.sorted_positions), m, 0,
                                                end_bit, 0));
  run_starts_kernel<<<grid_for(n + 1), kThreads, 0, 0>>>(typed<int64_t>(runs.run_start), key_out, m, n);
  FT_CUDA_CHECK_LAUNCH();
  return runs;
}

}  // namespace

Tensor index_select(const Tensor& x_in, int64_t dim, const Tensor& index_in) {
  const int d = normalize_dim(dim, x_in.shape().size());
  const Tensor index = checked_indices(index_in, x_in, x_in.shape()[size_t(d)]);
  const Tensor x = dense_on_device(x_in, x_in.dtype());
  const SliceGeometry g = split_at(x.shape(), d);
  const int64_t m = index.numel();
  Shape out_shape = x.shape();
  out_shape[size_t(d)] = m;
  Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
  const int64_t count = out.numel();
  if (count == 0) return out;
  dispatch_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if (index.dtype() == DType::i64)
      index_select_kernel<T, int64_t><<<grid_for(count), kThreads, 0, 0>>>(typed<T>(out), typed<T>(x),
                                                                           typed<int64_t>(index), g, m, count);
    else
      index_select_kernel<T, int32_t><<<grid_for(count), kThreads, 0, 0>>>(typed<T>(out), typed<T>(x),
                                                                           typed<int32_t>(index), g, m, count);
    FT_CUDA_CHECK_LAUNCH();
  });
  return out;
}

Tensor index_add(const Shape& shape, int64_t dim, const Tensor& index_in, const Tensor& src_in) {
  check_float(src_in, "index_add");
  const int d = normalize_dim(dim, shape.size());
  const Tensor index = checked_indices(index_in, src_in, shape[size_t(d)]);
  const SliceGeometry g = split_at(shape, d);
  const int64_t m = index.numel();
  FT_CHECK(src_in.numel() == g.outer * m * g.inner, "index_add source {} for {} indices into {}",
           shape_str(src_in.shape()), m, shape_str(shape));
  const Tensor src = dense_on_device(src_in, src_in.dtype());
  Tensor out = Tensor::empty(shape, src.dtype(), src.device());
  const int64_t count = out.numel();
  if (count == 0) return out;
  if (m == 0) {
    fill(out, 0.0);
    return out;
  }
  const SourceRuns runs = runs_by_index(index, g.n);
  dispatch_dtype(src.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      index_add_kernel<T><<<grid_for(count), kThreads, 0, 0>>>(typed<T>(out), typed<T>(src),
                                                               typed<int64_t>(runs.sorted_positions),
                                                               typed<int64_t>(runs.run_start), g, m, count);
      FT_CUDA_CHECK_LAUNCH();
    }
  });
  return out;
}

void register_index(KernelTable& table) {
  table.index_select.add(DeviceKind::cuda, index_select, kAllDTypes);
  table.index_add.add(DeviceKind::cuda, index_add, kFloat32And64);
}

}  // namespace ft::kernels::cuda
