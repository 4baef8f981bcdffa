// 2-D convolution, stride 1, zero padding, NCHW. f32 and bf16 go to oneDNN
// (conv_onednn.cpp); f64, which oneDNN lacks, runs here through im2col and one
// GEMM over the whole batch: columns are [C*kh*kw, N*Ho*Wo], so weight gradients
// are a single GEMM as well. f64 is the reference the oneDNN path is tested against.
#include <algorithm>
#include <cstring>

#include "framework/kernels/cpu/conv_onednn.h"
#include "framework/kernels/dispatch.h"
#include "framework/kernels/kernel_shapes.h"
#include "framework/kernels/kernels.h"

namespace ft::kernels::cpu {

namespace {

// The output columns x whose source column x + j - pad lies inside the image: a
// contiguous span, so rows copy with memcpy and pad with memset, no per-pixel test.
struct ValidSpan {
  int64_t begin, end;
};

inline ValidSpan valid_span(const ConvGeometry& g, int64_t j) {
  int64_t begin = std::max<int64_t>(0, g.pad - j);
  int64_t end = std::min<int64_t>(g.wo, g.w + g.pad - j);
  return {begin, std::max(begin, end)};
}

// cols[(c*kh + i)*kw + j][(n*ho + y)*wo + x] = x[n][c][y+i-pad][x+j-pad] (0 outside)
template <class T>
void im2col(const T* x, const ConvGeometry& g, T* cols) {
  int64_t rows = g.c * g.kh * g.kw;
  int64_t plane = g.ho * g.wo;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    int64_t c = r / (g.kh * g.kw), i = (r / g.kw) % g.kh, j = r % g.kw;
    ValidSpan span = valid_span(g, j);
    for (int64_t n = 0; n < g.n; ++n) {
      T* out = cols + r * g.n * plane + n * plane;
      const T* in = x + (n * g.c + c) * g.h * g.w;
      for (int64_t y = 0; y < g.ho; ++y) {
        int64_t sy = y + i - g.pad;
        T* row = out + y * g.wo;
        if (sy < 0 || sy >= g.h) {
          std::memset(static_cast<void*>(row), 0, sizeof(T) * size_t(g.wo));
          continue;
        }
        std::memset(static_cast<void*>(row), 0, sizeof(T) * size_t(span.begin));
        std::memcpy(static_cast<void*>(row + span.begin), in + sy * g.w + span.begin + j - g.pad,
                    sizeof(T) * size_t(span.end - span.begin));
        std::memset(static_cast<void*>(row + span.end), 0, sizeof(T) * size_t(g.wo - span.end));
      }
    }
  }
}

// The adjoint of im2col: scatters column gradients back into x's layout.
template <class T>
void col2im(const T* cols, const ConvGeometry& g, T* x) {
  int64_t plane = g.ho * g.wo;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < g.c; ++c) {
    for (int64_t n = 0; n < g.n; ++n) std::memset(static_cast<void*>(x + (n * g.c + c) * g.h * g.w), 0, sizeof(T) * size_t(g.h * g.w));
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        int64_t r = (c * g.kh + i) * g.kw + j;
        for (int64_t n = 0; n < g.n; ++n) {
          const T* in = cols + r * g.n * plane + n * plane;
          T* out = x + (n * g.c + c) * g.h * g.w;
          ValidSpan span = valid_span(g, j);
          for (int64_t y = 0; y < g.ho; ++y) {
            int64_t sy = y + i - g.pad;
            if (sy < 0 || sy >= g.h) continue;
            T* dst = out + sy * g.w;
            const T* src = in + y * g.wo;
            const int64_t shift = j - g.pad;  // source column of output column xx is xx + shift
            for (int64_t xx = span.begin; xx < span.end; ++xx) dst[xx + shift] += src[xx];
          }
        }
      }
  }
}

Tensor columns_of(const Tensor& x, const ConvGeometry& g) {
  Tensor dense = x.is_contiguous() ? x : copy(x);
  Tensor cols = Tensor::empty({g.c * g.kh * g.kw, g.n * g.ho * g.wo}, x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) im2col(static_cast<const T*>(dense.raw_data()), g, cols.data<T>());
  });
  return cols;
}

// Readies x and weight for the path that serves them; true for oneDNN. bf16 pairs
// stay bf16 for oneDNN's bf16 kernels; f16 and mixed pairs compute in f32; f64
// stays on im2col.
bool runs_on_onednn(Tensor& x, Tensor& weight) {
  if (x.dtype() == DType::f64 || weight.dtype() == DType::f64) {
    x = upcast_half(x);
    weight = upcast_half(weight);
    return false;
  }
  if (onednn_conv2d_supports(x, weight)) return true;
  x = cast(x, DType::f32);
  weight = cast(weight, DType::f32);
  return true;
}

}  // namespace

Tensor conv2d(const Tensor& x_in, const Tensor& weight_in, int64_t padding) {
  ConvGeometry g = plan_conv2d(x_in.shape(), weight_in.shape(), padding);
  Tensor x = x_in, weight = weight_in;
  if (runs_on_onednn(x, weight)) return onednn_conv2d(x, weight, padding);
  Tensor cols = columns_of(x, g);
  Tensor w2 = weight.detach().reshape({g.o, g.c * g.kh * g.kw});
  Tensor y = matmul(w2, cols);  // [O, N*Ho*Wo]
  return copy(y.reshape({g.o, g.n, g.ho, g.wo}).permute({1, 0, 2, 3}));
}

void conv2d_backward(const Tensor& x_in, const Tensor& weight_in, const Tensor& grad_y, int64_t padding,
                     Tensor* grad_x, Tensor* grad_weight) {
  ConvGeometry g = plan_conv2d(x_in.shape(), weight_in.shape(), padding);
  Tensor x = x_in, weight = weight_in;
  const bool bf16_pair = x.dtype() == DType::bf16 && weight.dtype() == DType::bf16;
  // A bf16 pair the f32 path serves (no oneDNN bf16 kernels) still takes grad_y
  // rounded to bf16, as the bf16 kernels do (kernels.h).
  const Tensor gy_in = bf16_pair && !onednn_conv2d_supports(x, weight) ? cast(cast(grad_y, DType::bf16), DType::f32)
                                                                        : grad_y;
  if (runs_on_onednn(x, weight)) return onednn_conv2d_backward(x, weight, gy_in, padding, grad_x, grad_weight);
  // gy as [O, N*Ho*Wo]
  Tensor gy = copy(gy_in.detach().permute({1, 0, 2, 3})).reshape({g.o, g.n * g.ho * g.wo});
  if (grad_weight) {
    Tensor cols = columns_of(x, g);
    *grad_weight = matmul(gy, cols, false, true).reshape(weight.shape());
  }
  if (grad_x) {
    Tensor w2 = weight.detach().reshape({g.o, g.c * g.kh * g.kw});
    Tensor gcols = matmul(w2, gy, true, false);  // [C*kh*kw, N*Ho*Wo]
    Tensor gx = Tensor::empty(x.shape(), x.dtype(), x.device());
    dispatch_dtype(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_floating_point_v<T>) col2im(gcols.data<T>(), g, gx.data<T>());
    });
    *grad_x = gx;
  }
}

void register_conv(KernelTable& table) {
  table.conv2d.add(DeviceKind::cpu, conv2d, kFloating);
  table.conv2d_backward.add(DeviceKind::cpu, conv2d_backward, kFloating);
}

}  // namespace ft::kernels::cpu
