// Copies and fills on the GPU: within a device (any strides, converting dtype),
// between devices peer to peer, and between host and device. Every kernel and copy
// goes to the legacy default stream of the tensor's device: it orders each op after
// the ones before it, which is what lets the caching allocator hand a freed block
// out again at once (see cuda_allocator.h).
#include <cuda_runtime.h>

#include "framework/kernels/cuda/cuda_check.h"
#include "framework/kernels/cuda/cuda_device.h"
#include "framework/kernels/cuda/cuda_launch.cuh"
#include "framework/kernels/cuda/kernels_cuda.h"
#include "framework/kernels/dispatch.h"
#include "framework/kernels/kernels.h"

namespace ft::kernels::cuda {

namespace {

template <class D, class S>
__global__ void copy_kernel(D* out, const S* in, Indexer<2> ix, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    int64_t off[2];
    ix.offsets(i, off);
    out[off[0]] = convert_element<D>(in[off[1]]);
  }
}

template <class T>
__global__ void fill_kernel(T* out, T value, Indexer<1> ix, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    int64_t off[1];
    ix.offsets(i, off);
    out[off[0]] = value;
  }
}

}  // namespace

void use_device(Device device) {
  FT_CHECK(device.kind == DeviceKind::cuda, "CUDA kernel on a {} tensor", device.str());
  int current = -1;
  FT_CUDA_CHECK(cudaGetDevice(&current));
  if (current != device.index) FT_CUDA_CHECK(cudaSetDevice(device.index));
}

void check_same_device(const Tensor& a, const Tensor& b, const char* what) {
  FT_CHECK(a.device() == b.device(), "{} between tensors on {} and {}", what, a.device().str(),
           b.device().str());
}

void device_copy(const Tensor& dst, const Tensor& src) {
  check_same_device(dst, src, "device copy");
  FT_CHECK(dst.shape() == src.shape(), "device copy of {} into {}", shape_str(src.shape()), shape_str(dst.shape()));
  const int64_t n = dst.numel();
  if (n == 0) return;
  use_device(dst.device());
  if (dst.dtype() == src.dtype() && dst.is_contiguous() && src.is_contiguous()) {
    FT_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), dst.nbytes(), cudaMemcpyDeviceToDevice, 0));
    return;
  }
  Indexer<2> ix = make_indexer<2>(dst.shape(), {dst.strides(), src.strides()});
  dispatch_dtype(dst.dtype(), [&](auto d_tag) {
    using D = decltype(d_tag);
    dispatch_dtype(src.dtype(), [&](auto s_tag) {
      using S = decltype(s_tag);
      copy_kernel<D, S><<<grid_for(n), kThreads, 0, 0>>>(typed<D>(dst), typed<S>(src), ix, n);
      FT_CUDA_CHECK_LAUNCH();
    });
  });
}

Tensor dense_on_device(const Tensor& src, DType dtype) {
  if (src.dtype() == dtype && src.is_contiguous()) return src;
  Tensor out = Tensor::empty(src.shape(), dtype, src.device());
  device_copy(out, src);
  return out;
}

void copy_into(Tensor& dst, const Tensor& src) {
  if (dst.numel() == 0) return;
  const Tensor source = src.shape() == dst.shape() ? src.detach() : src.detach().expand(dst.shape());

  if (on_cuda(dst) && on_cuda(source)) {
    if (dst.device() == source.device()) {
      device_copy(dst, source);
      return;
    }
    // Across devices: lay the source out densely in dst's dtype on its own device,
    // move the bytes peer to peer, then place them with dst's strides.
    Tensor staged = dense_on_device(source, dst.dtype());
    Tensor landed = dst.is_contiguous() ? dst : Tensor::empty(dst.shape(), dst.dtype(), dst.device());
    use_device(dst.device());
    FT_CUDA_CHECK(cudaMemcpyPeer(landed.raw_data(), dst.device().index, staged.raw_data(),
                                 staged.device().index, dst.nbytes()));
    if (!landed.same(dst)) device_copy(dst, landed);
    return;
  }

  if (on_cuda(dst)) {
    // Host -> device. Move the source's own (un-broadcast) elements densely in its
    // own dtype, so what crosses the bus is exactly the source's bytes; broadcasting
    // and conversion then run on the device with the rules above.
    use_device(dst.device());
    Tensor host = src.is_contiguous() ? src : kernels::copy(src);
    if (src.shape() == dst.shape() && src.dtype() == dst.dtype() && dst.is_contiguous()) {
      FT_CUDA_CHECK(cudaMemcpy(dst.raw_data(), host.raw_data(), dst.nbytes(), cudaMemcpyHostToDevice));
      return;
    }
    Tensor staged = Tensor::empty(src.shape(), src.dtype(), dst.device());
    if (staged.numel() > 0)
      FT_CUDA_CHECK(cudaMemcpy(staged.raw_data(), host.raw_data(), staged.nbytes(), cudaMemcpyHostToDevice));
    device_copy(dst, src.shape() == dst.shape() ? staged : staged.expand(dst.shape()));
    return;
  }

  // Device -> host: convert and lay out on the device, move dst's bytes, and let
  // the CPU place them when dst is a strided view.
  FT_CHECK(on_cuda(source) && dst.device().kind == DeviceKind::cpu, "copy from {} to {}",
           source.device().str(), dst.device().str());
  use_device(source.device());
  Tensor dense = dense_on_device(source, dst.dtype());
  if (dst.is_contiguous()) {
    FT_CUDA_CHECK(cudaMemcpy(dst.raw_data(), dense.raw_data(), dst.nbytes(), cudaMemcpyDeviceToHost));
    return;
  }
  Tensor host = Tensor::empty(dst.shape(), dst.dtype());
  FT_CUDA_CHECK(cudaMemcpy(host.raw_data(), dense.raw_data(), host.nbytes(), cudaMemcpyDeviceToHost));
  kernels::copy_into(dst, host);
}

void fill(Tensor& dst, double value) {
  const int64_t n = dst.numel();
  if (n == 0) return;
  use_device(dst.device());
  Indexer<1> ix = make_indexer<1>(dst.shape(), {dst.strides()});
  dispatch_dtype(dst.dtype(), [&](auto tag) {
    using T = decltype(tag);
    fill_kernel<T><<<grid_for(n), kThreads, 0, 0>>>(typed<T>(dst), convert_element<T>(value), ix, n);
    FT_CUDA_CHECK_LAUNCH();
  });
}

void register_copy(KernelTable& table) {
  table.copy_into.add(DeviceKind::cuda, copy_into, kAllDTypes);
  table.fill.add(DeviceKind::cuda, fill, kAllDTypes);
}

}  // namespace ft::kernels::cuda
