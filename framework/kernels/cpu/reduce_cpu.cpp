// Sums and maxima over dimensions on the CPU. Sums accumulate in f64.
#include <algorithm>
#include <limits>

#include "framework/kernels/cpu/strided_loop.h"
#include "framework/kernels/dispatch.h"
#include "framework/kernels/kernels.h"

namespace ft::kernels::cpu {

namespace {

struct ReductionPlan {
  Shape kept_shape, reduced_shape;
  Strides kept_strides, reduced_strides;
  Shape out_shape;  // with or without kept 1-dims
};

ReductionPlan plan_reduction(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  std::vector<bool> reduced(x.shape().size(), false);
  for (int64_t d : dims) reduced[size_t(normalize_dim(d, x.shape().size()))] = true;
  ReductionPlan plan;
  for (size_t d = 0; d < x.shape().size(); ++d) {
    if (reduced[d]) {
      plan.reduced_shape.push_back(x.shape()[d]);
      plan.reduced_strides.push_back(x.strides()[d]);
      if (keepdim) plan.out_shape.push_back(1);
    } else {
      plan.kept_shape.push_back(x.shape()[d]);
      plan.kept_strides.push_back(x.strides()[d]);
      plan.out_shape.push_back(x.shape()[d]);
    }
  }
  return plan;
}

int64_t offset_of(int64_t index, const Shape& shape, const Strides& strides) {
  int64_t offset = 0;
  for (size_t d = shape.size(); d-- > 0;) {
    offset += (index % shape[d]) * strides[d];
    index /= shape[d];
  }
  return offset;
}

template <class T>
double sum_strided(const T* base, const Shape& shape, const Strides& strides) {
  double acc = 0.0;
  // Sequential on purpose: callers parallelise over outputs.
  StridedLayout<1> layout = merge_dims<1>(shape, {strides});
  int64_t inner = layout.sizes.back();
  int64_t inner_stride = layout.strides[0].back();
  Shape outer_shape(layout.sizes.begin(), layout.sizes.end() - 1);
  Strides outer_strides(layout.strides[0].begin(), layout.strides[0].end() - 1);
  int64_t outer = numel_of(outer_shape);
  for (int64_t r = 0; r < outer; ++r) {
    const T* p = base + offset_of(r, outer_shape, outer_strides);
    if (inner_stride == 1) {
      // Lane-wise partial sums (a fixed order for a given build), so the loop vectorizes.
      double row = 0.0;
#pragma omp simd reduction(+ : row)
      for (int64_t i = 0; i < inner; ++i) row += double(p[i]);
      acc += row;
    } else {
      for (int64_t i = 0; i < inner; ++i) acc += double(p[i * inner_stride]);
    }
  }
  return acc;
}

// Leading dims reduced, trailing dims kept, x dense: x is [rows, cols] and the
// result is its column sums (bias gradients). Rows are split across threads,
// each accumulating a full row of partial sums so every read is contiguous.
template <class T>
void sum_leading_rows(const T* x, int64_t rows, int64_t cols, T* out) {
  std::vector<double> total(size_t(cols), 0.0);
#pragma omp parallel if (rows * cols >= kParallelGrain)
  {
    std::vector<double> partial(size_t(cols), 0.0);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = x + r * cols;
      for (int64_t c = 0; c < cols; ++c) partial[size_t(c)] += double(row[c]);
    }
#pragma omp critical
    for (int64_t c = 0; c < cols; ++c) total[size_t(c)] += partial[size_t(c)];
  }
  for (int64_t c = 0; c < cols; ++c) out[c] = T(total[size_t(c)]);
}

bool reduces_leading_dims_only(const Tensor& x, const std::vector<int64_t>& dims) {
  std::vector<bool> reduced(x.shape().size(), false);
  for (int64_t d : dims) reduced[size_t(normalize_dim(d, x.shape().size()))] = true;
  size_t k = 0;
  while (k < reduced.size() && reduced[k]) ++k;
  for (size_t i = k; i < reduced.size(); ++i)
    if (reduced[i]) return false;
  return k > 0 && k < reduced.size() && x.is_contiguous();
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  FT_CHECK(x.dtype() == DType::f32 || x.dtype() == DType::f64, "sum needs f32 or f64, got {}",
           dtype_name(x.dtype()));
  ReductionPlan plan = plan_reduction(x, dims, keepdim);
  Tensor out = Tensor::empty(plan.out_shape, x.dtype(), x.device());
  int64_t n_out = numel_of(plan.kept_shape);
  int64_t n_reduced = numel_of(plan.reduced_shape);
  dispatch_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* in = static_cast<const T*>(x.raw_data());
      T* o = out.data<T>();
      if (n_out > 1 && reduces_leading_dims_only(x, dims)) {
        sum_leading_rows(in, n_reduced, n_out, o);
        return;
      }
      if (n_out == 1) {
        // One output: split the reduced elements across threads.
        Shape rs = plan.reduced_shape;
        Strides rst = plan.reduced_strides;
        int64_t base = offset_of(0, plan.kept_shape, plan.kept_strides);
        double total = 0.0;
        int64_t rows = rs.empty() ? 1 : numel_of(Shape(rs.begin(), rs.end() - 1));
        int64_t inner = rs.empty() ? 1 : rs.back();
        int64_t inner_stride = rst.empty() ? 0 : rst.back();
        Shape outer_shape = rs.empty() ? Shape{} : Shape(rs.begin(), rs.end() - 1);
        Strides outer_strides = rst.empty() ? Strides{} : Strides(rst.begin(), rst.end() - 1);
        if (rows == 1) {
          const int64_t chunk = 8192;
          int64_t chunks = (inner + chunk - 1) / chunk;
#pragma omp parallel for reduction(+ : total) if (n_reduced >= kParallelGrain)
          for (int64_t c = 0; c < chunks; ++c) {
            const T* p = in + base + c * chunk * inner_stride;
            int64_t n = std::min(chunk, inner - c * chunk);
            double acc = 0.0;
            for (int64_t i = 0; i < n; ++i) acc += double(p[i * inner_stride]);
            total += acc;
          }
        } else {
#pragma omp parallel for reduction(+ : total) if (n_reduced >= kParallelGrain)
          for (int64_t r = 0; r < rows; ++r) {
            const T* p = in + base + offset_of(r, outer_shape, outer_strides);
            double acc = 0.0;
            for (int64_t i = 0; i < inner; ++i) acc += double(p[i * inner_stride]);
            total += acc;
          }
        }
        o[0] = T(total);
        return;
      }
#pragma omp parallel for schedule(static) if (n_out * n_reduced >= kParallelGrain)
      for (int64_t i = 0; i < n_out; ++i) {
        const T* base = in + offset_of(i, plan.kept_shape, plan.kept_strides);
        o[i] = T(sum_strided(base, plan.reduced_shape, plan.reduced_strides));
      }
    }
  });
  return out;
}

Tensor max(const Tensor& x, int64_t dim, bool keepdim, Tensor* indices) {
  FT_CHECK(x.dtype() == DType::f32 || x.dtype() == DType::f64, "max needs f32 or f64, got {}",
           dtype_name(x.dtype()));
  int d = normalize_dim(dim, x.shape().size());
  FT_CHECK(x.shape()[size_t(d)] > 0, "max over an empty dimension {}", d);
  ReductionPlan plan = plan_reduction(x, {d}, keepdim);
  Tensor out = Tensor::empty(plan.out_shape, x.dtype(), x.device());
  Tensor idx = Tensor::empty(plan.out_shape, DType::i64, x.device());
  int64_t n_out = numel_of(plan.kept_shape);
  int64_t n = x.shape()[size_t(d)];
  int64_t stride = x.strides()[size_t(d)];
  dispatch_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* in = static_cast<const T*>(x.raw_data());
      T* o = out.data<T>();
      int64_t* oi = idx.data<int64_t>();
#pragma omp parallel for schedule(static) if (n_out * n >= kParallelGrain)
      for (int64_t i = 0; i < n_out; ++i) {
        const T* p = in + offset_of(i, plan.kept_shape, plan.kept_strides);
        T best = p[0];
        int64_t best_j = 0;
        for (int64_t j = 1; j < n; ++j) {
          T v = p[j * stride];
          if (v > best || (v != v && best == best)) {  // NaN wins, as in PyTorch
            best = v;
            best_j = j;
          }
        }
        o[i] = best;
        oi[i] = best_j;
      }
    }
  });
  if (indices) *indices = idx;
  return out;
}

void register_reduce(KernelTable& table) {
  table.sum.add(DeviceKind::cpu, sum, kFloat32And64);
  table.max.add(DeviceKind::cpu, max, kFloat32And64);
}

}  // namespace ft::kernels::cpu
