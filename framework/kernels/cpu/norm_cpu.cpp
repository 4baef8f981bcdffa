// Layer norm and softmax over the last dimension, fused forward and backward.
#include <omp.h>

#include <cmath>
#include <limits>

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
#pragma omp parallel if (rows * d >= 16384)
      {
        std::vector<double> local_w(size_t(d), 0.0), local_b(size_t(d), 0.0);
#pragma omp for schedule(static)
        for (int64_t r = 0; r < rows; ++r) {
          const T* row = px + r * d;
          const T* g = pg + r * d;
          double mu = double(pm[r]), inv = double(pr[r]);
          double sum_g = 0.0, sum_gx = 0.0;
          for (int64_t i = 0; i < d; ++i) {
            double xhat = (double(row[i]) - mu) * inv;
            double gh = double(g[i]) * (pw ? double(pw[i]) : 1.0);
            sum_g += gh;
            sum_gx += gh * xhat;
            local_w[size_t(i)] += double(g[i]) * xhat;
            local_b[size_t(i)] += double(g[i]);
          }
          double mean_g = sum_g / double(d), mean_gx = sum_gx / double(d);
          T* out = pgx + r * d;
          for (int64_t i = 0; i < d; ++i) {
            double xhat = (double(row[i]) - mu) * inv;
            double gh = double(g[i]) * (pw ? double(pw[i]) : 1.0);
            out[i] = T(inv * (gh - mean_g - xhat * mean_gx));
          }
        }
#pragma omp critical
        for (int64_t i = 0; i < d; ++i) {
          pgw[i] += local_w[size_t(i)];
          pgb[i] += local_b[size_t(i)];
        }
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
