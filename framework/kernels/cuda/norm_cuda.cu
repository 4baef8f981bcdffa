// Layer norm and softmax over the last dim on the GPU, with the CPU's formulas
// (norm_cpu.cpp): one block per row (grid-stride over rows), the row's sums
// through block_sum in f64 where the CPU sums in f64 and in the row's dtype where
// it does. Rows are made dense first, so a row is d consecutive elements.
//
// layer_norm_backward's weight and bias gradients sum over rows. Atomics would add
// in whatever order the blocks run; instead stage one has each thread own one
// column of one chunk of rows and write its partial sum, and stage two sums each
// column's partials in chunk order (sum_last_dim). The chunking depends only on
// the shape, so the result is the same to the bit on every run.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "framework/kernels/cuda/cuda_check.h"
#include "framework/kernels/cuda/cuda_device.h"
#include "framework/kernels/cuda/cudnn_graphs.h"
#include "framework/kernels/cuda/cuda_launch.cuh"
#include "framework/kernels/cuda/kernels_cuda.h"
#include "framework/kernels/dispatch.h"

namespace ft::kernels::cuda {

namespace {

// Stage one of the parameter gradients: at least this many rows per thread (a
// partial per few rows would only move the sum to stage two), at most this many
// chunks (each a [d] slice of f64 partials).
constexpr int64_t kMinRowsPerChunk = 32;
constexpr int64_t kMaxRowChunks = 256;

struct RowLayout {
  int64_t rows, d;  // x as [rows, d]
};

RowLayout rows_of(const Tensor& x, const char* what) {
  check_float(x, what);
  FT_CHECK(x.dim() >= 1, "{} of a scalar", what);
  const int64_t d = x.size(-1);
  return {x.numel() / std::max<int64_t>(d, 1), d};
}

unsigned blocks_for_rows(int64_t rows) { return unsigned(std::min(rows, kMaxBlocks)); }

// A [d] parameter (weight or bias) in x's dtype, dense; undefined stays undefined.
Tensor dense_parameter(const Tensor& p, const Tensor& x, int64_t d, const char* what) {
  if (!p.defined()) return p;
  FT_CHECK(p.shape() == Shape{d}, "{} {} for rows of {}", what, shape_str(p.shape()), d);
  FT_CHECK(p.dtype() == x.dtype(), "{} in {} for {} rows", what, dtype_name(p.dtype()), dtype_name(x.dtype()));
  check_same_device(p, x, what);
  return dense_on_device(p, p.dtype());
}

// Saved per-row statistics (mean, rstd): [rows] in x's dtype, dense.
Tensor dense_row_stats(const Tensor& s, const Tensor& x, int64_t rows, const char* what) {
  FT_CHECK(s.numel() == rows && s.dtype() == x.dtype(), "layer_norm_backward: {} of {} {} for {} rows of {}", what,
           s.numel(), dtype_name(s.dtype()), rows, dtype_name(x.dtype()));
  check_same_device(s, x, "layer_norm_backward");
  return dense_on_device(s, s.dtype());
}

template <class T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? typed<T>(t) : nullptr;
}

template <class T>
__global__ void layer_norm_kernel(T* y, T* mean, T* rstd, const T* x, const T* weight, const T* bias, double eps,
                                  int64_t rows, int64_t d) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* row = x + r * d;
    double s = 0.0;
    for (int64_t i = threadIdx.x; i < d; i += blockDim.x) s += double(row[i]);
    const double mu = block_sum(s) / double(d);
    double v = 0.0;
    for (int64_t i = threadIdx.x; i < d; i += blockDim.x) v += (double(row[i]) - mu) * (double(row[i]) - mu);
    const double inv = 1.0 / std::sqrt(block_sum(v) / double(d) + eps);
    if (threadIdx.x == 0) {
      mean[r] = T(mu);
      rstd[r] = T(inv);
    }
    T* out = y + r * d;
    for (int64_t i = threadIdx.x; i < d; i += blockDim.x) {
      const T xhat = T((double(row[i]) - mu) * inv);
      out[i] = xhat * (weight ? weight[i] : T(1)) + (bias ? bias[i] : T(0));
    }
  }
}

template <class T>
__global__ void layer_norm_grad_x_kernel(T* grad_x, const T* grad_y, const T* x, const T* weight, const T* mean,
                                         const T* rstd, int64_t rows, int64_t d) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* row = x + r * d;
    const T* g = grad_y + r * d;
    const double mu = double(mean[r]), inv = double(rstd[r]);
    double sum_g = 0.0, sum_gx = 0.0;
    for (int64_t i = threadIdx.x; i < d; i += blockDim.x) {
      const double xhat = (double(row[i]) - mu) * inv;
      const double gh = double(g[i]) * (weight ? double(weight[i]) : 1.0);
      sum_g += gh;
      sum_gx += gh * xhat;
    }
    const double mean_g = block_sum(sum_g) / double(d);
    const double mean_gx = block_sum(sum_gx) / double(d);
    T* out = grad_x + r * d;
    for (int64_t i = threadIdx.x; i < d; i += blockDim.x) {
      const double xhat = (double(row[i]) - mu) * inv;
      const double gh = double(g[i]) * (weight ? double(weight[i]) : 1.0);
      out[i] = T(inv * (gh - mean_g - xhat * mean_gx));
    }
  }
}

// Stage one: block b covers columns [tile * blockDim, ...) of row chunk `chunk`;
// each thread sums its column over the chunk's rows into partial[column, chunk].
template <class T>
__global__ void layer_norm_param_partials_kernel(double* partial_w, double* partial_b, const T* grad_y, const T* x,
                                                 const T* mean, const T* rstd, int64_t rows, int64_t d,
                                                 int64_t chunks, int64_t rows_per_chunk, int64_t col_tiles) {
  for (int64_t b = blockIdx.x; b < chunks * col_tiles; b += gridDim.x) {
    const int64_t chunk = b / col_tiles;
    const int64_t c = (b % col_tiles) * blockDim.x + threadIdx.x;
    if (c >= d) continue;
    const int64_t r_end = (chunk + 1) * rows_per_chunk < rows ? (chunk + 1) * rows_per_chunk : rows;
    double sum_w = 0.0, sum_b = 0.0;
    for (int64_t r = chunk * rows_per_chunk; r < r_end; ++r) {
      const double g = double(grad_y[r * d + c]);
      sum_w += g * ((double(x[r * d + c]) - double(mean[r])) * double(rstd[r]));
      sum_b += g;
    }
    partial_w[c * chunks + chunk] = sum_w;
    partial_b[c * chunks + chunk] = sum_b;
  }
}

template <class T>
__global__ void softmax_kernel(T* y, const T* x, int64_t rows, int64_t d) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* row = x + r * d;
    T* out = y + r * d;
    T m = -T(INFINITY);
    for (int64_t i = threadIdx.x; i < d; i += blockDim.x) m = max_skipping_nan(m, row[i]);
    m = block_max(m);
    T s = T(0);
    for (int64_t i = threadIdx.x; i < d; i += blockDim.x) {
      out[i] = ::ft::unary_forward<UnaryOp::exp>(row[i] - m, T(0));
      s += out[i];
    }
    // Each thread rescales the elements it wrote itself: no barrier needed between.
    const T inv = T(1) / block_sum(s);
    for (int64_t i = threadIdx.x; i < d; i += blockDim.x) out[i] *= inv;
  }
}

template <class T>
__global__ void softmax_backward_kernel(T* grad_x, const T* y, const T* grad_y, int64_t rows, int64_t d) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* yr = y + r * d;
    const T* gr = grad_y + r * d;
    double dot = 0.0;
    for (int64_t i = threadIdx.x; i < d; i += blockDim.x) dot += double(yr[i]) * double(gr[i]);
    const T total = T(block_sum(dot));
    T* out = grad_x + r * d;
    for (int64_t i = threadIdx.x; i < d; i += blockDim.x) out[i] = yr[i] * (gr[i] - total);
  }
}

// Stage one of both parameter gradients, then stage two (sum_last_dim over each
// column's chunks), cast to x's dtype.
template <class T>
void layer_norm_param_grads(const Tensor& grad_y, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                            RowLayout g, Tensor* grad_weight, Tensor* grad_bias) {
  const int64_t rows_per_chunk = std::max(kMinRowsPerChunk, (g.rows + kMaxRowChunks - 1) / kMaxRowChunks);
  const int64_t chunks = (g.rows + rows_per_chunk - 1) / rows_per_chunk;
  Tensor partial_w = Tensor::empty({g.d, chunks}, DType::f64, x.device());
  Tensor partial_b = Tensor::empty({g.d, chunks}, DType::f64, x.device());
  const int64_t col_tiles = (g.d + kThreads - 1) / kThreads;
  if (chunks > 0 && g.d > 0) {
    const unsigned blocks = unsigned(std::min(chunks * col_tiles, kMaxBlocks));
    layer_norm_param_partials_kernel<T><<<blocks, kThreads, 0, 0>>>(
        typed<double>(partial_w), typed<double>(partial_b), typed<T>(grad_y), typed<T>(x), typed<T>(mean),
        typed<T>(rstd), g.rows, g.d, chunks, rows_per_chunk, col_tiles);
    FT_CUDA_CHECK_LAUNCH();
  }
  // With no rows the partials are [d, 0] and their sums zeros, as on the CPU.
  if (grad_weight) *grad_weight = dense_on_device(sum_last_dim(partial_w), x.dtype());
  if (grad_bias) *grad_bias = dense_on_device(sum_last_dim(partial_b), x.dtype());
}

}  // namespace

Tensor layer_norm(const Tensor& x_in, const Tensor& weight_in, const Tensor& bias_in, double eps, Tensor* mean_out,
                  Tensor* rstd_out) {
  const RowLayout g = rows_of(x_in, "layer_norm");
  use_device(x_in.device());
  const Tensor x = dense_on_device(x_in, x_in.dtype());
  const Tensor weight = dense_parameter(weight_in, x, g.d, "layer_norm weight");
  const Tensor bias = dense_parameter(bias_in, x, g.d, "layer_norm bias");
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mean = Tensor::empty({g.rows}, x.dtype(), x.device());
  Tensor rstd = Tensor::empty({g.rows}, x.dtype(), x.device());
  if (g.rows > 0) {
    dispatch_dtype(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_floating_point_v<T>) {
        layer_norm_kernel<T><<<blocks_for_rows(g.rows), kThreads, 0, 0>>>(
            typed<T>(y), typed<T>(mean), typed<T>(rstd), typed<T>(x), ptr_or_null<T>(weight), ptr_or_null<T>(bias),
            eps, g.rows, g.d);
        FT_CUDA_CHECK_LAUNCH();
      }
    });
  }
  if (mean_out) *mean_out = mean;
  if (rstd_out) *rstd_out = rstd;
  return y;
}

void layer_norm_backward(const Tensor& grad_y_in, const Tensor& x_in, const Tensor& weight_in, const Tensor& mean_in,
                         const Tensor& rstd_in, Tensor* grad_x, Tensor* grad_weight, Tensor* grad_bias) {
  const RowLayout g = rows_of(x_in, "layer_norm_backward");
  FT_CHECK(grad_y_in.shape() == x_in.shape() && grad_y_in.dtype() == x_in.dtype(),
           "layer_norm_backward: gradient {} {} for input {} {}", shape_str(grad_y_in.shape()),
           dtype_name(grad_y_in.dtype()), shape_str(x_in.shape()), dtype_name(x_in.dtype()));
  check_same_device(grad_y_in, x_in, "layer_norm_backward");
  use_device(x_in.device());
  const Tensor x = dense_on_device(x_in, x_in.dtype());
  const Tensor grad_y = dense_on_device(grad_y_in, grad_y_in.dtype());
  const Tensor weight = dense_parameter(weight_in, x, g.d, "layer_norm_backward weight");
  const Tensor mean = dense_row_stats(mean_in, x, g.rows, "mean");
  const Tensor rstd = dense_row_stats(rstd_in, x, g.rows, "rstd");
  dispatch_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      if (grad_x) {
        Tensor gx = Tensor::empty(x.shape(), x.dtype(), x.device());
        if (g.rows > 0) {
          layer_norm_grad_x_kernel<T><<<blocks_for_rows(g.rows), kThreads, 0, 0>>>(
              typed<T>(gx), typed<T>(grad_y), typed<T>(x), ptr_or_null<T>(weight), typed<T>(mean), typed<T>(rstd),
              g.rows, g.d);
          FT_CUDA_CHECK_LAUNCH();
        }
        *grad_x = gx;
      }
      if (grad_weight || grad_bias) layer_norm_param_grads<T>(grad_y, x, mean, rstd, g, grad_weight, grad_bias);
    }
  });
}

Tensor softmax(const Tensor& x_in) {
  const RowLayout g = rows_of(x_in, "softmax");
  use_device(x_in.device());
  const Tensor x = dense_on_device(x_in, x_in.dtype());
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (g.rows == 0) return y;
  dispatch_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      softmax_kernel<T><<<blocks_for_rows(g.rows), kThreads, 0, 0>>>(typed<T>(y), typed<T>(x), g.rows, g.d);
      FT_CUDA_CHECK_LAUNCH();
    }
  });
  return y;
}

Tensor softmax_backward(const Tensor& y_in, const Tensor& grad_in) {
  const RowLayout g = rows_of(y_in, "softmax_backward");
  FT_CHECK(grad_in.shape() == y_in.shape() && grad_in.dtype() == y_in.dtype(),
           "softmax_backward: gradient {} {} for output {} {}", shape_str(grad_in.shape()), dtype_name(grad_in.dtype()),
           shape_str(y_in.shape()), dtype_name(y_in.dtype()));
  check_same_device(grad_in, y_in, "softmax_backward");
  use_device(y_in.device());
  const Tensor y = dense_on_device(y_in, y_in.dtype());
  const Tensor grad = dense_on_device(grad_in, grad_in.dtype());
  Tensor gx = Tensor::empty(y.shape(), y.dtype(), y.device());
  if (g.rows == 0) return gx;
  dispatch_dtype(y.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      softmax_backward_kernel<T><<<blocks_for_rows(g.rows), kThreads, 0, 0>>>(typed<T>(gx), typed<T>(y),
                                                                             typed<T>(grad), g.rows, g.d);
      FT_CUDA_CHECK_LAUNCH();
    }
  });
  return gx;
}

namespace {

// f32 layer norm runs on cuDNN's fused graphs (cudnn_graphs.h), the graphs CI
// validates for every preset; f64, empty inputs, and a weight without a bias (or
// the reverse), which cuDNN's graph does not take, run on the kernels above, which
// are also the reference the GPU tests hold cuDNN to.
bool layer_norm_on_cudnn(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  return x.dtype() == DType::f32 && x.numel() > 0 && weight.defined() == bias.defined();
}

Tensor routed_layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, Tensor* mean,
                         Tensor* rstd) {
  if (layer_norm_on_cudnn(x, weight, bias)) return cudnn_layer_norm(x, weight, bias, eps, mean, rstd);
  return layer_norm(x, weight, bias, eps, mean, rstd);
}

// Both paths save the same statistics (f32 mean and 1/sqrt(var + eps) per row), so
// either backward takes either forward's.
void routed_layer_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& weight, const Tensor& mean,
                                const Tensor& rstd, Tensor* grad_x, Tensor* grad_weight, Tensor* grad_bias) {
  if (x.dtype() == DType::f32 && x.numel() > 0)
    return cudnn_layer_norm_backward(grad_y, x, weight, mean, rstd, grad_x, grad_weight, grad_bias);
  layer_norm_backward(grad_y, x, weight, mean, rstd, grad_x, grad_weight, grad_bias);
}

}  // namespace

void register_norm(KernelTable& table) {
  table.layer_norm.add(DeviceKind::cuda, routed_layer_norm, kFloat32And64);
  table.layer_norm_backward.add(DeviceKind::cuda, routed_layer_norm_backward, kFloat32And64);
  table.softmax.add(DeviceKind::cuda, softmax, kFloat32And64);
  table.softmax_backward.add(DeviceKind::cuda, softmax_backward, kFloat32And64);
}

}  // namespace ft::kernels::cuda
