// Element-wise math on the GPU: the functors of functors.h, the templates the CPU
// kernels run, so both backends compute the same function and the CPU tests check
// this math. Operands broadcast through stride-0 dims; nothing is materialised.
// add_inplace writes through dst's strides: a dst whose elements share memory (an
// expanded view) would race, where the CPU adds serially.
#include <cuda_runtime.h>

#include <type_traits>

#include "framework/kernels/cuda/cuda_check.h"
#include "framework/kernels/cuda/cuda_device.h"
#include "framework/kernels/cuda/cuda_launch.cuh"
#include "framework/kernels/cuda/kernels_cuda.h"
#include "framework/kernels/dispatch.h"

namespace ft::kernels::cuda {

namespace {

template <UnaryOp op, class T>
__global__ void unary_kernel(T* out, const T* x, T p, Indexer<2> ix, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    int64_t off[2];
    ix.offsets(i, off);
    out[off[0]] = ::ft::unary_forward<op>(x[off[1]], p);
  }
}

template <UnaryOp op, class T>
__global__ void unary_backward_kernel(T* out, const T* x, const T* y, const T* g, T p, Indexer<4> ix,
                                      int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    int64_t off[4];
    ix.offsets(i, off);
    out[off[0]] = ::ft::unary_backward<op>(x[off[1]], y[off[2]], g[off[3]], p);
  }
}

template <BinaryOp op, class T>
__global__ void binary_kernel(T* out, const T* a, const T* b, Indexer<3> ix, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    int64_t off[3];
    ix.offsets(i, off);
    out[off[0]] = ::ft::binary_forward<op>(a[off[1]], b[off[2]]);
  }
}

template <class T>
__global__ void add_scaled_kernel(T* dst, const T* src, T alpha, Indexer<2> ix, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    int64_t off[2];
    ix.offsets(i, off);
    dst[off[0]] += alpha * src[off[1]];
  }
}

template <class T>
__global__ void scale_shift_kernel(T* out, const T* x, T scale, T shift, Indexer<2> ix, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    int64_t off[2];
    ix.offsets(i, off);
    out[off[0]] = x[off[1]] * scale + shift;
  }
}

}  // namespace

Tensor unary(UnaryOp op, const Tensor& x, double p) {
  check_float(x, "unary op");
  use_device(x.device());
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  const int64_t n = x.numel();
  if (n == 0) return out;
  Indexer<2> ix = make_indexer<2>(x.shape(), {out.strides(), x.strides()});
  dispatch_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      dispatch_unary(op, [&](auto op_tag) {
        constexpr UnaryOp kOp = decltype(op_tag)::value;
        unary_kernel<kOp, T><<<grid_for(n), kThreads, 0, 0>>>(typed<T>(out), typed<T>(x), T(p), ix, n);
        FT_CUDA_CHECK_LAUNCH();
      });
    }
  });
  return out;
}

Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& grad, double p) {
  check_float(grad, "unary backward");
  // x or y may be undefined when the formula does not use them; grad stands in.
  const Tensor& xs = x.defined() ? x : grad;
  const Tensor& ys = y.defined() ? y : grad;
  for (const Tensor* t : {&xs, &ys}) {
    check_same_device(*t, grad, "unary backward");
    FT_CHECK(t->dtype() == grad.dtype() && t->shape() == grad.shape(),
             "unary backward: input {} {} against gradient {} {}", dtype_name(t->dtype()), shape_str(t->shape()),
             dtype_name(grad.dtype()), shape_str(grad.shape()));
  }
  use_device(grad.device());
  Tensor out = Tensor::empty(grad.shape(), grad.dtype(), grad.device());
  const int64_t n = grad.numel();
  if (n == 0) return out;
  Indexer<4> ix = make_indexer<4>(grad.shape(), {out.strides(), xs.strides(), ys.strides(), grad.strides()});
  dispatch_dtype(grad.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      dispatch_unary(op, [&](auto op_tag) {
        constexpr UnaryOp kOp = decltype(op_tag)::value;
        unary_backward_kernel<kOp, T><<<grid_for(n), kThreads, 0, 0>>>(
            typed<T>(out), typed<T>(xs), typed<T>(ys), typed<T>(grad), T(p), ix, n);
        FT_CUDA_CHECK_LAUNCH();
      });
    }
  });
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  check_float(a, "binary op");
  check_same_device(a, b, "binary op");
  FT_CHECK(a.dtype() == b.dtype(), "binary op between {} and {}", dtype_name(a.dtype()), dtype_name(b.dtype()));
  Shape shape = broadcast_shapes(a.shape(), b.shape());
  // Broadcast operands read through stride-0 dims; nothing is materialised.
  Tensor ea = a.shape() == shape ? a : a.detach().expand(shape);
  Tensor eb = b.shape() == shape ? b : b.detach().expand(shape);
  use_device(a.device());
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  const int64_t n = out.numel();
  if (n == 0) return out;
  Indexer<3> ix = make_indexer<3>(shape, {out.strides(), ea.strides(), eb.strides()});
  dispatch_dtype(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      dispatch_binary(op, [&](auto op_tag) {
        constexpr BinaryOp kOp = decltype(op_tag)::value;
        binary_kernel<kOp, T><<<grid_for(n), kThreads, 0, 0>>>(typed<T>(out), typed<T>(ea), typed<T>(eb), ix, n);
        FT_CUDA_CHECK_LAUNCH();
      });
    }
  });
  return out;
}

void add_inplace(Tensor& dst, const Tensor& src, double alpha) {
  check_float(dst, "add_inplace");
  check_same_device(dst, src, "add_inplace");
  // src in dst's dtype (a converting copy on the device), broadcast through stride-0 dims.
  Tensor s = src.dtype() == dst.dtype() ? src.detach() : dense_on_device(src, dst.dtype());
  if (s.shape() != dst.shape()) s = s.expand(dst.shape());
  const int64_t n = dst.numel();
  if (n == 0) return;
  use_device(dst.device());
  Indexer<2> ix = make_indexer<2>(dst.shape(), {dst.strides(), s.strides()});
  dispatch_dtype(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      add_scaled_kernel<T><<<grid_for(n), kThreads, 0, 0>>>(typed<T>(dst), typed<T>(s), T(alpha), ix, n);
      FT_CUDA_CHECK_LAUNCH();
    }
  });
}

Tensor scale_shift(const Tensor& x, double scale, double shift) {
  check_float(x, "scale_shift");
  use_device(x.device());
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  const int64_t n = x.numel();
  if (n == 0) return out;
  Indexer<2> ix = make_indexer<2>(x.shape(), {out.strides(), x.strides()});
  dispatch_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      scale_shift_kernel<T><<<grid_for(n), kThreads, 0, 0>>>(typed<T>(out), typed<T>(x), T(scale), T(shift), ix, n);
      FT_CUDA_CHECK_LAUNCH();
    }
  });
  return out;
}

void register_elementwise(KernelTable& table) {
  table.unary.add(DeviceKind::cuda, unary, kFloat32And64);
  table.unary_backward.add(DeviceKind::cuda, unary_backward, kFloat32And64);
  table.binary.add(DeviceKind::cuda, binary, kFloat32And64);
  table.add_inplace.add(DeviceKind::cuda, add_inplace, kFloat32And64);
  table.scale_shift.add(DeviceKind::cuda, scale_shift, kFloat32And64);
}

}  // namespace ft::kernels::cuda
