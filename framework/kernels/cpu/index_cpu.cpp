// Gathering and scattering whole slices along one dimension.
#include <cstring>

#include "framework/kernels/dispatch.h"
#include "framework/kernels/kernels.h"

namespace ft::kernels::cpu {

namespace {

struct SliceGeometry {
  int64_t outer, n, inner;  // x viewed as [outer, n, inner]
};

SliceGeometry split_at(const Shape& shape, int d) {
  SliceGeometry g{1, shape[size_t(d)], 1};
  for (int i = 0; i < d; ++i) g.outer *= shape[size_t(i)];
  for (size_t i = size_t(d) + 1; i < shape.size(); ++i) g.inner *= shape[i];
  return g;
}

std::vector<int64_t> checked_indices(const Tensor& index, int64_t limit) {
  FT_CHECK(index.dim() == 1, "index must be 1-d, got {}", shape_str(index.shape()));
  FT_CHECK(index.dtype() == DType::i64 || index.dtype() == DType::i32, "index must be i64 or i32, got {}",
           dtype_name(index.dtype()));
  std::vector<int64_t> idx = index.to_vector<int64_t>();
  for (int64_t i : idx) FT_CHECK(i >= 0 && i < limit, "index {} out of range [0, {})", i, limit);
  return idx;
}

}  // namespace

Tensor index_select(const Tensor& x_in, int64_t dim, const Tensor& index) {
  int d = normalize_dim(dim, x_in.shape().size());
  Tensor x = x_in.is_contiguous() ? x_in : copy(x_in);
  std::vector<int64_t> idx = checked_indices(index, x.shape()[size_t(d)]);
  SliceGeometry g = split_at(x.shape(), d);
  Shape out_shape = x.shape();
  out_shape[size_t(d)] = int64_t(idx.size());
  Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
  size_t bytes = size_t(g.inner) * dtype_size(x.dtype());
  const char* src = static_cast<const char*>(x.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  int64_t m = int64_t(idx.size());
#pragma omp parallel for schedule(static) if (g.outer * m * g.inner >= 65536)
  for (int64_t o = 0; o < g.outer; ++o)
    for (int64_t i = 0; i < m; ++i)
      std::memcpy(dst + size_t(o * m + i) * bytes, src + size_t(o * g.n + idx[size_t(i)]) * bytes, bytes);
  return out;
}

Tensor index_add(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& src_in) {
  int d = normalize_dim(dim, shape.size());
  std::vector<int64_t> idx = checked_indices(index, shape[size_t(d)]);
  Tensor src = src_in.is_contiguous() ? src_in : copy(src_in);
  SliceGeometry g = split_at(shape, d);
  int64_t m = int64_t(idx.size());
  FT_CHECK(src.numel() == g.outer * m * g.inner, "index_add source {} for {} indices into {}",
           shape_str(src.shape()), m, shape_str(shape));
  Tensor out = Tensor::zeros(shape, src.dtype(), src.device());
  dispatch_dtype(src.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* s = src.data<T>();
      T* o = out.data<T>();
      // Parallel over outer slices only: repeated indices then never race.
#pragma omp parallel for schedule(static) if (g.outer > 1 && g.outer * m * g.inner >= 65536)
      for (int64_t a = 0; a < g.outer; ++a)
        for (int64_t i = 0; i < m; ++i) {
          T* dst = o + (a * g.n + idx[size_t(i)]) * g.inner;
          const T* from = s + (a * m + i) * g.inner;
          for (int64_t c = 0; c < g.inner; ++c) dst[c] += from[c];
        }
    }
  });
  return out;
}

void register_index(KernelTable& table) {
  table.index_select.add(DeviceKind::cpu, index_select, kAllDTypes);
  table.index_add.add(DeviceKind::cpu, index_add, kFloat32And64);
}

}  // namespace ft::kernels::cpu
