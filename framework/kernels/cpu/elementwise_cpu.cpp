// Copies, fills, casts and element-wise math on the CPU.
#include <algorithm>
#include <cstring>

#include "framework/kernels/cpu/fast_math.h"
#include "framework/kernels/cpu/strided_loop.h"
#include "framework/kernels/cpu/vector_loops.h"
#include "framework/kernels/kernel_shapes.h"
#include "framework/kernels/dispatch.h"
#include "framework/kernels/kernels.h"

namespace ft::kernels::cpu {

namespace {

void check_cpu(const Tensor& t, const char* what) {
  FT_CHECK(t.device().kind == DeviceKind::cpu, "{} of a {} tensor on the CPU backend", what,
           t.device().str());
}


// A same-dtype copy whose destination is dense along its last dim while the source
// is dense along another dim (a transpose): copied in 32x32 tiles so both sides are
// read and written a cache line at a time. Returns false when the layout is not that.
template <class Word>
bool tiled_transpose_copy(Tensor& dst, const Tensor& src) {
  StridedLayout<2> layout = merge_dims<2>(dst.shape(), {dst.strides(), src.strides()});
  const size_t nd = layout.sizes.size();
  if (nd < 2 || layout.strides[0][nd - 1] != 1 || layout.strides[1][nd - 1] == 1) return false;
  size_t b = nd;
  for (size_t d = 0; d + 1 < nd; ++d)
    if (layout.strides[1][d] == 1) b = d;
  if (b == nd) return false;
  Shape outer_shape;
  std::array<Strides, 2> outer_strides;
  for (size_t d = 0; d + 1 < nd; ++d) {
    if (d == b) continue;
    outer_shape.push_back(layout.sizes[d]);
    for (size_t k = 0; k < 2; ++k) outer_strides[k].push_back(layout.strides[k][d]);
  }
  const int64_t rows = layout.sizes[b], cols = layout.sizes[nd - 1];
  const int64_t dst_row = layout.strides[0][b], src_col = layout.strides[1][nd - 1];
  const int64_t outer = numel_of(outer_shape), tile = 32;
  const int64_t row_tiles = (rows + tile - 1) / tile, col_tiles = (cols + tile - 1) / tile;
  Word* out = static_cast<Word*>(dst.raw_data());
  const Word* in = static_cast<const Word*>(src.raw_data());
#pragma omp parallel for schedule(static) if (outer * rows * cols >= kParallelGrain)
  for (int64_t task = 0; task < outer * row_tiles * col_tiles; ++task) {
    int64_t o = task / (row_tiles * col_tiles), t = task % (row_tiles * col_tiles);
    int64_t r0 = (t / col_tiles) * tile, c0 = (t % col_tiles) * tile;
    int64_t od = 0, os = 0, rest = o;
    for (size_t d = outer_shape.size(); d-- > 0;) {
      int64_t i = rest % outer_shape[d];
      rest /= outer_shape[d];
      od += i * outer_strides[0][d];
      os += i * outer_strides[1][d];
    }
    int64_t r1 = std::min(rows, r0 + tile), c1 = std::min(cols, c0 + tile);
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t c = c0; c < c1; ++c) out[od + r * dst_row + c] = in[os + r + c * src_col];
  }
  return true;
}

// The dense f32 <-> bf16 conversions of autocast, on the vector loops; false for other pairs.
template <class S, class D>
bool convert_dense(const S* x, D* y, int64_t n) {
  if constexpr (std::is_same_v<S, float> && std::is_same_v<D, bf16>) {
    vector_loops::best().float_to_bf16(x, reinterpret_cast<uint16_t*>(y), n);
    return true;
  } else if constexpr (std::is_same_v<S, bf16> && std::is_same_v<D, float>) {
    vector_loops::best().bf16_to_float(reinterpret_cast<const uint16_t*>(x), y, n);
    return true;
  }
  return false;
}

bool try_tiled_transpose_copy(Tensor& dst, const Tensor& src) {
  switch (dtype_size(dst.dtype())) {
    case 1: return tiled_transpose_copy<uint8_t>(dst, src);
    case 2: return tiled_transpose_copy<uint16_t>(dst, src);
    case 4: return tiled_transpose_copy<uint32_t>(dst, src);
    case 8: return tiled_transpose_copy<uint64_t>(dst, src);
  }
  return false;
}

}  // namespace

void copy_into(Tensor& dst, const Tensor& src) {
  check_cpu(dst, "copy");
  check_cpu(src, "copy");
  Tensor source = src.shape() == dst.shape() ? src : src.detach().expand(dst.shape());
  if (dst.dtype() == source.dtype() && dst.is_contiguous() && source.is_contiguous()) {
    std::memcpy(dst.raw_data(), source.raw_data(), dst.nbytes());
    return;
  }
  if (dst.dtype() == source.dtype() && try_tiled_transpose_copy(dst, source)) return;
  dispatch_dtype(dst.dtype(), [&](auto d_tag) {
    using D = decltype(d_tag);
    dispatch_dtype(source.dtype(), [&](auto s_tag) {
      using S = decltype(s_tag);
      D* out = typed<D>(dst);
      const S* in = typed<S>(source);
      for_each_strided<2>(dst.shape(), {dst.strides(), source.strides()},
                          [&](auto off, int64_t n, auto st) {
                            D* o = out + off[0];
                            const S* x = in + off[1];
                            if (st[0] == 1 && st[1] == 1 && convert_dense(x, o, n)) return;
                            for (int64_t i = 0; i < n; ++i) o[i * st[0]] = convert_element<D>(x[i * st[1]]);
                          });
    });
  });
}

void fill(Tensor& dst, double value) {
  check_cpu(dst, "fill");
  dispatch_dtype(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T v = convert_element<T>(value);
    T* out = typed<T>(dst);
    for_each_strided<1>(dst.shape(), {dst.strides()}, [&](auto off, int64_t n, auto st) {
      T* o = out + off[0];
      for (int64_t i = 0; i < n; ++i) o[i * st[0]] = v;
    });
  });
}


Tensor unary(UnaryOp op, const Tensor& x, double p) {
  check_cpu(x, "unary op");
  check_float(x, "unary op");
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      dispatch_unary(op, [&](auto op_tag) {
        constexpr UnaryOp kOp = decltype(op_tag)::value;
        const T* in = typed<T>(x);
        T* o = typed<T>(out);
        T pp = T(p);
        for_each_strided<2>(x.shape(), {out.strides(), x.strides()}, [&](auto off, int64_t n, auto st) {
          T* y = o + off[0];
          const T* a = in + off[1];
          if (std::is_same_v<T, float> && st[0] == 1 && st[1] == 1) {
            vector_loops::best().unary(kOp, reinterpret_cast<const float*>(a), reinterpret_cast<float*>(y), n,
                                       float(pp));
          } else if (st[0] == 1 && st[1] == 1) {
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) y[i] = ::ft::unary_forward<kOp, T, CpuMath>(a[i], pp);
          } else {
            for (int64_t i = 0; i < n; ++i) y[i * st[0]] = ::ft::unary_forward<kOp, T, CpuMath>(a[i * st[1]], pp);
          }
        });
      });
    }
  });
  return out;
}

Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& grad, double p) {
  check_float(grad, "unary backward");
  Tensor out = Tensor::empty(grad.shape(), grad.dtype(), grad.device());
  // x or y may be undefined when the formula does not use them; pass grad in their place.
  const Tensor& xs = x.defined() ? x : grad;
  const Tensor& ys = y.defined() ? y : grad;
  dispatch_dtype(grad.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      dispatch_unary(op, [&](auto op_tag) {
        constexpr UnaryOp kOp = decltype(op_tag)::value;
        T* o = typed<T>(out);
        const T* xp = typed<T>(xs);
        const T* yp = typed<T>(ys);
        const T* gp = typed<T>(grad);
        T pp = T(p);
        for_each_strided<4>(grad.shape(), {out.strides(), xs.strides(), ys.strides(), grad.strides()},
                            [&](auto off, int64_t n, auto st) {
                              T* ob = o + off[0];
                              const T* xb = xp + off[1];
                              const T* yb = yp + off[2];
                              const T* gb = gp + off[3];
                              // The common dense case as unit-stride pointers, so the
                              // loop vectorizes (the strided form below cannot).
                              const bool dense = st[0] == 1 && st[1] == 1 && st[2] == 1 && st[3] == 1;
                              if (std::is_same_v<T, float> && dense) {
                                vector_loops::best().unary_backward(
                                    kOp, reinterpret_cast<const float*>(xb), reinterpret_cast<const float*>(yb),
                                    reinterpret_cast<const float*>(gb), reinterpret_cast<float*>(ob), n, float(pp));
                              } else if (dense) {
#pragma omp simd
                                for (int64_t i = 0; i < n; ++i)
                                  ob[i] = ::ft::unary_backward<kOp, T, CpuMath>(xb[i], yb[i], gb[i], pp);
                              } else {
                                for (int64_t i = 0; i < n; ++i)
                                  ob[i * st[0]] = ::ft::unary_backward<kOp, T, CpuMath>(
                                      xb[i * st[1]], yb[i * st[2]], gb[i * st[3]], pp);
                              }
                            });
      });
    }
  });
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  check_cpu(a, "binary op");
  check_cpu(b, "binary op");
  check_float(a, "binary op");
  FT_CHECK(a.dtype() == b.dtype(), "binary op between {} and {}", dtype_name(a.dtype()),
           dtype_name(b.dtype()));
  Shape shape = broadcast_shapes(a.shape(), b.shape());
  Tensor ea = a.shape() == shape ? a : a.detach().expand(shape);
  Tensor eb = b.shape() == shape ? b : b.detach().expand(shape);
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  dispatch_dtype(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      dispatch_binary(op, [&](auto op_tag) {
        constexpr BinaryOp kOp = decltype(op_tag)::value;
        T* o = typed<T>(out);
        const T* pa = typed<T>(ea);
        const T* pb = typed<T>(eb);
        for_each_strided<3>(shape, {out.strides(), ea.strides(), eb.strides()}, [&](auto off, int64_t n, auto st) {
          T* y = o + off[0];
          const T* x1 = pa + off[1];
          const T* x2 = pb + off[2];
          // Unit-stride and broadcast-scalar forms as plain pointers, so they vectorize.
          if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) y[i] = ::ft::binary_forward<kOp>(x1[i], x2[i]);
          } else if (st[0] == 1 && st[1] == 1 && st[2] == 0) {
            const T s2 = x2[0];
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) y[i] = ::ft::binary_forward<kOp>(x1[i], s2);
          } else if (st[0] == 1 && st[1] == 0 && st[2] == 1) {
            const T s1 = x1[0];
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) y[i] = ::ft::binary_forward<kOp>(s1, x2[i]);
          } else {
            for (int64_t i = 0; i < n; ++i) y[i * st[0]] = ::ft::binary_forward<kOp>(x1[i * st[1]], x2[i * st[2]]);
          }
        });
      });
    }
  });
  return out;
}

void add_inplace(Tensor& dst, const Tensor& src, double alpha) {
  check_cpu(dst, "add_inplace");
  check_float(dst, "add_inplace");
  Tensor s = src.dtype() == dst.dtype() ? src : cast(src, dst.dtype());
  if (s.shape() != dst.shape()) s = s.detach().expand(dst.shape());
  dispatch_dtype(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      T* o = typed<T>(dst);
      const T* in = typed<T>(s);
      T a = T(alpha);
      for_each_strided<2>(dst.shape(), {dst.strides(), s.strides()}, [&](auto off, int64_t n, auto st) {
        T* y = o + off[0];
        const T* x = in + off[1];
        if (st[0] == 1 && st[1] == 1) {
#pragma omp simd
          for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
        } else if (st[0] == 1 && st[1] == 0) {
          const T ax = a * x[0];
#pragma omp simd
          for (int64_t i = 0; i < n; ++i) y[i] += ax;
        } else {
          for (int64_t i = 0; i < n; ++i) y[i * st[0]] += a * x[i * st[1]];
        }
      });
    }
  });
}

Tensor scale_shift(const Tensor& x, double scale, double shift) {
  check_float(x, "scale_shift");
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      T* o = typed<T>(out);
      const T* in = typed<T>(x);
      T a = T(scale), b = T(shift);
      for_each_strided<2>(x.shape(), {out.strides(), x.strides()}, [&](auto off, int64_t n, auto st) {
        for (int64_t i = 0; i < n; ++i) o[off[0] + i * st[0]] = in[off[1] + i * st[1]] * a + b;
      });
    }
  });
  return out;
}

void register_elementwise(KernelTable& table) {
  table.copy_into.add(DeviceKind::cpu, copy_into, kAllDTypes);
  table.fill.add(DeviceKind::cpu, fill, kAllDTypes);
  table.unary.add(DeviceKind::cpu, unary, kFloat32And64);
  table.unary_backward.add(DeviceKind::cpu, unary_backward, kFloat32And64);
  table.binary.add(DeviceKind::cpu, binary, kFloat32And64);
  table.add_inplace.add(DeviceKind::cpu, add_inplace, kFloat32And64);
  table.scale_shift.add(DeviceKind::cpu, scale_shift, kFloat32And64);
}

}  // namespace ft::kernels::cpu
