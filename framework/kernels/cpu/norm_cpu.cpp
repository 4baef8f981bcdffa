// Layer norm and softmax over the last dimension, fused forward and backward.
#include <omp.h>

#include <cmath>
#include <limits>
#include <vector>

#include "framework/kernels/cpu/vector_loops.h"
#include "framework/kernels/dispatch.h"
#include "framework/kernels/kernels.h"

namespace ft::kernels::cpu {

namespace {

void check_rows(const Tensor& x, const char* what) {
  FT_CHECK(x.dtype() == DType::f32 || x.dtype() == DType::f64, "{} needs f32 or f64, got {}", what,
           dtype_name(x.dtype()));
  FT_CHECK(x.dim() >= 1, "{} of a scalar", what);
}

template <class T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? static_cast<const T*>(t.raw_data()) : nullptr;
}

}  // namespace

Tensor layer_norm(const Tensor& x_in, const Tensor& weight, const Tensor& bias, double eps, Tensor* mean_out,
                  Tensor* rstd_out) {
  check_rows(x_in, "layer_norm");
  Tensor x = x_in.is_contiguous() ? x_in : copy(x_in);
  int64_t d = x.size(-1), rows = x.numel() / std::max<int64_t>(d, 1);
  if (weight.defined()) FT_CHECK(weight.shape() == Shape{d}, "layer_norm weight {} for rows of {}", shape_str(weight.shape()), d);
  if (bias.defined()) FT_CHECK(bias.shape() == Shape{d}, "layer_norm bias {} for rows of {}", shape_str(bias.shape()), d);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor mean = Tensor::empty({rows}, x.dtype(), x.device());
  Tensor rstd = Tensor::empty({rows}, x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* px = x.data<T>();
      const T* pw = ptr_or_null<T>(weight);
      const T* pb = ptr_or_null<T>(bias);
      T* py = y.data<T>();
      T* pm = mean.data<T>();
      T* pr = rstd.data<T>();
#pragma omp parallel for schedule(static) if (rows * d >= 16384)
      for (int64_t r = 0; r < rows; ++r) {
        const T* row = px + r * d;
        if constexpr (std::is_same_v<T, float>) {
          // On the instruction set of this CPU; its sums run over fixed lanes.
          vector_loops::best().layer_norm_row(row, pw, pb, d, eps, py + r * d, pm + r, pr + r);
          continue;
        }
        double s = 0.0;
        for (int64_t i = 0; i < d; ++i) s += double(row[i]);
        double mu = s / double(d);
        double v = 0.0;
        for (int64_t i = 0; i < d; ++i) v += (double(row[i]) - mu) * (double(row[i]) - mu);
        double inv = 1.0 / std::sqrt(v / double(d) + eps);
        pm[r] = T(mu);
        pr[r] = T(inv);
        T* out = py + r * d;
        for (int64_t i = 0; i < d; ++i) {
          T xhat = T((double(row[i]) - mu) * inv);
          out[i] = xhat * (pw ? pw[i] : T(1)) + (pb ? pb[i] : T(0));
        }
      }
    }
  });
  if (mean_out) *mean_out = mean;
  if (rstd_out) *rstd_out = rstd;
  return y;
}

void layer_norm_backward(const Tensor& grad_y_in, const Tensor& x_in, const Tensor& weight, const Tensor& mean,
                         const Tensor& rstd, Tensor* grad_x, Tensor* grad_weight, Tensor* grad_bias) {
  Tensor x = x_in.is_contiguous() ? x_in : copy(x_in);
  Tensor gy = grad_y_in.is_contiguous() ? grad_y_in : copy(grad_y_in);
  int64_t d = x.size(-1), rows = x.numel() / std::max<int64_t>(d, 1);
  Tensor gx = Tensor::empty(x.shape(), x.dtype(), x.device());
  Tensor gw = Tensor::zeros({d}, DType::f64, x.device());
  Tensor gb = Tensor::zeros({d}, DType::f64, x.device());
  dispatch_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* px = x.data<T>();
      const T* pg = gy.data<T>();
      const T* pw = ptr_or_null<T>(weight);
      const T* pm = mean.data<T>();
      const T* pr = rstd.data<T>();
      T* pgx = gx.data<T>();
      double* pgw = gw.data<double>();
      double* pgb = gb.data<double>();
      // Per-thread sums of the weight and bias gradients, added in thread order
      // afterwards, so the result does not depend on which thread finishes first.
      const int threads = rows * d >= 16384 ? omp_get_max_threads() : 1;
      std::vector<double> partial_w(size_t(threads * d), 0.0), partial_b(size_t(threads * d), 0.0);
#pragma omp parallel num_threads(threads)
      {
        double* local_w = partial_w.data() + omp_get_thread_num() * d;
        double* local_b = partial_b.data() + omp_get_thread_num() * d;
#pragma omp for schedule(static)
        for (int64_t r = 0; r < rows; ++r) {
          const T* row = px + r * d;
          const T* g = pg + r * d;
          T* out = pgx + r * d;
          if constexpr (std::is_same_v<T, float>) {
            vector_loops::best().layer_norm_backward_row(row, g, pw, d, pm[r], pr[r], out, local_w, local_b);
            continue;
          }
          double mu = double(pm[r]), inv = double(pr[r]);
          double sum_g = 0.0, sum_gx = 0.0;
          for (int64_t i = 0; i < d; ++i) {
            double xhat = (double(row[i]) - mu) * inv;
            double gh = double(g[i]) * (pw ? double(pw[i]) : 1.0);
            sum_g += gh;
            sum_gx += gh * xhat;
            local_w[i] += double(g[i]) * xhat;
            local_b[i] += double(g[i]);
          }
          double mean_g = sum_g / double(d), mean_gx = sum_gx / double(d);
          for (int64_t i = 0; i < d; ++i) {
            double xhat = (double(row[i]) - mu) * inv;
            double gh = double(g[i]) * (pw ? double(pw[i]) : 1.0);
            out[i] = T(inv * (gh - mean_g - xhat * mean_gx));
          }
        }
      }
      for (int t = 0; t < threads; ++t)
        for (int64_t i = 0; i < d; ++i) {
          pgw[i] += partial_w[size_t(t * d + i)];
          pgb[i] += partial_b[size_t(t * d + i)];
        }
    }
  });
  if (grad_x) *grad_x = gx;
  if (grad_weight) *grad_weight = cast(gw, x.dtype());
  if (grad_bias) *grad_bias = cast(gb, x.dtype());
}

Tensor softmax(const Tensor& x_in) {
  check_rows(x_in, "softmax");
  Tensor x = x_in.is_contiguous() ? x_in : copy(x_in);
  int64_t d = x.size(-1), rows = x.numel() / std::max<int64_t>(d, 1);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* px = x.data<T>();
      T* py = y.data<T>();
#pragma omp parallel for schedule(static) if (rows * d >= 16384)
      for (int64_t r = 0; r < rows; ++r) {
        const T* row = px + r * d;
        T* out = py + r * d;
        T m = -std::numeric_limits<T>::infinity();
        for (int64_t i = 0; i < d; ++i) m = row[i] > m ? row[i] : m;
        T s = 0;
        for (int64_t i = 0; i < d; ++i) {
          out[i] = std::exp(row[i] - m);
          s += out[i];
        }
        T inv = T(1) / s;
        for (int64_t i = 0; i < d; ++i) out[i] *= inv;
      }
    }
  });
  return y;
}

Tensor softmax_backward(const Tensor& y_in, const Tensor& grad_in) {
  Tensor y = y_in.is_contiguous() ? y_in : copy(y_in);
  Tensor g = grad_in.is_contiguous() ? grad_in : copy(grad_in);
  int64_t d = y.size(-1), rows = y.numel() / std::max<int64_t>(d, 1);
  Tensor gx = Tensor::empty(y.shape(), y.dtype(), y.device());
  dispatch_dtype(y.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T* py = y.data<T>();
      const T* pg = g.data<T>();
      T* out = gx.data<T>();
#pragma omp parallel for schedule(static) if (rows * d >= 16384)
      for (int64_t r = 0; r < rows; ++r) {
        double dot = 0.0;
        for (int64_t i = 0; i < d; ++i) dot += double(py[r * d + i]) * double(pg[r * d + i]);
        for (int64_t i = 0; i < d; ++i) out[r * d + i] = T(py[r * d + i] * (pg[r * d + i] - T(dot)));
      }
    }
  });
  return gx;
}

void register_norm(KernelTable& table) {
  table.layer_norm.add(DeviceKind::cpu, layer_norm, kFloat32And64);
  table.layer_norm_backward.add(DeviceKind::cpu, layer_norm_backward, kFloat32And64);
  table.softmax.add(DeviceKind::cpu, softmax, kFloat32And64);
  table.softmax_backward.add(DeviceKind::cpu, softmax_backward, kFloat32And64);
}

}  // namespace ft::kernels::cpu
