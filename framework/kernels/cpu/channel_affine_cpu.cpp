// Glow's ActNorm as one fused pass each way: (x + shift) * exp(log_scale) per
// channel forward; grad_x and both parameter gradients from one read of grad_y and
// y backward. Unfused, the same layer costs an add, an exp, a multiply, and in
// backward two more element-wise passes and two reductions.
#include "framework/kernels/cpu/fast_math.h"
#include "framework/kernels/cpu/strided_loop.h"
#include "framework/kernels/dispatch.h"
#include "framework/kernels/kernel_shapes.h"
#include "framework/kernels/kernels.h"

namespace ft::kernels::cpu {

namespace {

Tensor dense(const Tensor& t) { return t.is_contiguous() ? t : copy(t); }

// exp(log_scale) as kernels::unary computes it, so the fused layer equals the unfused one bit for bit.
template <class T>
std::vector<T> scales_of(const Tensor& log_scale) {
  const Tensor ls = dense(log_scale);
  const T* p = ls.data<T>();
  std::vector<T> scale(size_t(ls.numel()));
  for (size_t k = 0; k < scale.size(); ++k) scale[k] = unary_forward<UnaryOp::exp, T, CpuMath>(p[k], T(0));
  return scale;
}

Tensor channel_affine(const Tensor& x_in, const Tensor& shift_in, const Tensor& log_scale) {
  const ChannelLayout g = plan_channel_affine(x_in, log_scale, "channel_affine");
  FT_CHECK(shift_in.numel() == g.channels && shift_in.dtype() == x_in.dtype(),
           "channel_affine: {} shifts for {} channels", shift_in.numel(), g.channels);
  const Tensor x = dense(x_in), shift = dense(shift_in);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const std::vector<T> scale = scales_of<T>(log_scale);
      const T *px = x.data<T>(), *pb = shift.data<T>();
      T* py = y.data<T>();
#pragma omp parallel for schedule(static) if (x.numel() >= kParallelGrain)
      for (int64_t r = 0; r < g.batch * g.channels; ++r) {
        const int64_t k = r % g.channels;
        const T b = pb[k], e = scale[size_t(k)];
        const T* xi = px + r * g.plane;
        T* yo = py + r * g.plane;
#pragma omp simd
        for (int64_t i = 0; i < g.plane; ++i) yo[i] = (xi[i] + b) * e;
      }
    }
  });
  return y;
}

void channel_affine_backward(const Tensor& grad_y_in, const Tensor& y_in, const Tensor& log_scale, Tensor* grad_x,
                             Tensor* grad_shift, Tensor* grad_log_scale) {
  const ChannelLayout g = plan_channel_affine(y_in, log_scale, "channel_affine_backward");
  FT_CHECK(grad_y_in.shape() == y_in.shape() && grad_y_in.dtype() == y_in.dtype(),
           "channel_affine_backward: gradient {} {} for output {} {}", shape_str(grad_y_in.shape()),
           dtype_name(grad_y_in.dtype()), shape_str(y_in.shape()), dtype_name(y_in.dtype()));
  const Tensor gy = dense(grad_y_in), y = dense(y_in);
  Tensor gx = Tensor::empty(y.shape(), y.dtype(), y.device());
  Tensor gb = Tensor::empty({g.channels}, y.dtype(), y.device());
  Tensor gs = Tensor::empty({g.channels}, y.dtype(), y.device());
  dispatch_dtype(y.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const std::vector<T> scale = scales_of<T>(log_scale);
      const T *pg = gy.data<T>(), *py = y.data<T>();
      T *pgx = gx.data<T>(), *pgb = gb.data<T>(), *pgs = gs.data<T>();
      // Channels across threads: each owns its sums, no reduction between threads.
#pragma omp parallel for schedule(static) if (y.numel() >= kParallelGrain)
      for (int64_t k = 0; k < g.channels; ++k) {
        const T e = scale[size_t(k)];
        double sum_shift = 0.0, sum_log_scale = 0.0;
        for (int64_t n = 0; n < g.batch; ++n) {
          const int64_t base = (n * g.channels + k) * g.plane;
          const T *gi = pg + base, *yi = py + base;
          T* gxo = pgx + base;
#pragma omp simd reduction(+ : sum_shift, sum_log_scale)
          for (int64_t i = 0; i < g.plane; ++i) {
            const T d = gi[i] * e;
            gxo[i] = d;
            sum_shift += double(d);
            sum_log_scale += double(gi[i]) * double(yi[i]);
          }
        }
        pgb[k] = T(sum_shift);
        pgs[k] = T(sum_log_scale);
      }
    }
  });
  if (grad_x) *grad_x = gx;
  if (grad_shift) *grad_shift = gb;
  if (grad_log_scale) *grad_log_scale = gs;
}

}  // namespace

void register_channel_affine(KernelTable& table) {
  table.channel_affine.add(DeviceKind::cpu, channel_affine, kFloat32And64);
  table.channel_affine_backward.add(DeviceKind::cpu, channel_affine_backward, kFloat32And64);
}

}  // namespace ft::kernels::cpu
