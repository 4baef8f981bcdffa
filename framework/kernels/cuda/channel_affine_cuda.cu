// Glow's ActNorm on the GPU, one pass each way as on the CPU
// (channel_affine_cpu.cpp): y = (x + shift[c]) * exp(log_scale[c]) over x
// [N, C, ...] viewed as [N, C, plane]. exp(log_scale) comes from the unary exp
// kernel, so the fused layer equals the unfused one on this device bit for bit.
//
// The backward's per-channel sums run in two fixed-order stages instead of
// atomics: block (channel, chunk) writes grad_x for its chunk of the channel's
// N * plane elements and its two f64 partial sums; sum_last_dim then adds each
// channel's partials in chunk order. The chunking depends only on the shape, so
// the gradients repeat to the bit.
#include <cuda_runtime.h>

#include <algorithm>
#include <type_traits>

#include "framework/kernels/cuda/cuda_check.h"
#include "framework/kernels/cuda/cuda_device.h"
#include "framework/kernels/cuda/cuda_launch.cuh"
#include "framework/kernels/cuda/kernels_cuda.h"
#include "framework/kernels/dispatch.h"

namespace ft::kernels::cuda {

namespace {

// Elements of one channel per block in the backward: enough that a block's
// threads each sum several, at most this many chunks per channel.
constexpr int64_t kMinChunkElements = 8 * kThreads;
constexpr int64_t kMaxChunksPerChannel = 256;

ChannelLayout layout_of(const Tensor& x, const Tensor& log_scale, const char* what) {
  const ChannelLayout g = plan_channel_affine(x, log_scale, what);
  check_same_device(log_scale, x, what);
  return g;
}

template <class T>
__global__ void channel_affine_kernel(T* y, const T* x, const T* shift, const T* scale, int64_t channels,
                                      int64_t plane, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) {
    const int64_t k = (i / plane) % channels;
    y[i] = (x[i] + shift[k]) * scale[k];
  }
}

// Block b is chunk b % chunks of channel b / chunks; partials are [channels, chunks].
template <class T>
__global__ void channel_affine_backward_kernel(T* grad_x, double* partial_shift, double* partial_log_scale,
                                               const T* grad_y, const T* y, const T* scale, ChannelLayout g,
                                               int64_t chunks, int64_t chunk_elements) {
  const int64_t per_channel = g.batch * g.plane;
  for (int64_t b = blockIdx.x; b < g.channels * chunks; b += gridDim.x) {
    const int64_t k = b / chunks, chunk = b % chunks;
    const int64_t end = (chunk + 1) * chunk_elements < per_channel ? (chunk + 1) * chunk_elements : per_channel;
    const T e = scale[k];
    double sum_shift = 0.0, sum_log_scale = 0.0;
    for (int64_t j = chunk * chunk_elements + threadIdx.x; j < end; j += blockDim.x) {
      const int64_t offset = ((j / g.plane) * g.channels + k) * g.plane + j % g.plane;
      const T d = grad_y[offset] * e;
      grad_x[offset] = d;
      sum_shift += double(d);
      sum_log_scale += double(grad_y[offset]) * double(y[offset]);
    }
    sum_shift = block_sum(sum_shift);
    sum_log_scale = block_sum(sum_log_scale);
    if (threadIdx.x == 0) {
      partial_shift[b] = sum_shift;
      partial_log_scale[b] = sum_log_scale;
    }
  }
}

// exp(log_scale) as kernels::unary computes it on this device, dense [C].
Tensor scales_of(const Tensor& log_scale) { return unary(UnaryOp::exp, log_scale).reshape({log_scale.numel()}); }

}  // namespace

Tensor channel_affine(const Tensor& x_in, const Tensor& shift_in, const Tensor& log_scale) {
  const ChannelLayout g = layout_of(x_in, log_scale, "channel_affine");
  FT_CHECK(shift_in.numel() == g.channels && shift_in.dtype() == x_in.dtype(),
           "channel_affine: {} shifts of {} for {} channels of {}", shift_in.numel(), dtype_name(shift_in.dtype()),
           g.channels, dtype_name(x_in.dtype()));
  check_same_device(shift_in, x_in, "channel_affine");
  use_device(x_in.device());
  const Tensor x = dense_on_device(x_in, x_in.dtype());
  const Tensor shift = dense_on_device(shift_in, shift_in.dtype());
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  const int64_t n = x.numel();
  if (n == 0) return y;
  const Tensor scale = scales_of(log_scale);
  dispatch_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      channel_affine_kernel<T><<<grid_for(n), kThreads, 0, 0>>>(typed<T>(y), typed<T>(x), typed<T>(shift),
                                                                typed<T>(scale), g.channels, g.plane, n);
      FT_CUDA_CHECK_LAUNCH();
    }
  });
  return y;
}

void channel_affine_backward(const Tensor& grad_y_in, const Tensor& y_in, const Tensor& log_scale, Tensor* grad_x,
                             Tensor* grad_shift, Tensor* grad_log_scale) {
  const ChannelLayout g = layout_of(y_in, log_scale, "channel_affine_backward");
  FT_CHECK(grad_y_in.shape() == y_in.shape() && grad_y_in.dtype() == y_in.dtype(),
           "channel_affine_backward: gradient {} {} for output {} {}", shape_str(grad_y_in.shape()),
           dtype_name(grad_y_in.dtype()), shape_str(y_in.shape()), dtype_name(y_in.dtype()));
  check_same_device(grad_y_in, y_in, "channel_affine_backward");
  use_device(y_in.device());
  const Tensor grad_y = dense_on_device(grad_y_in, grad_y_in.dtype());
  const Tensor y = dense_on_device(y_in, y_in.dtype());
  const int64_t per_channel = g.batch * g.plane;
  const int64_t chunk_elements =
      std::max(kMinChunkElements, (per_channel + kMaxChunksPerChannel - 1) / kMaxChunksPerChannel);
  const int64_t chunks = (per_channel + chunk_elements - 1) / chunk_elements;
  Tensor gx = Tensor::empty(y.shape(), y.dtype(), y.device());
  Tensor partial_shift = Tensor::empty({g.channels, chunks}, DType::f64, y.device());
  Tensor partial_log_scale = Tensor::empty({g.channels, chunks}, DType::f64, y.device());
  if (g.channels * chunks > 0) {
    const Tensor scale = scales_of(log_scale);
    dispatch_dtype(y.dtype(), [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_floating_point_v<T>) {
        const unsigned blocks = unsigned(std::min(g.channels * chunks, kMaxBlocks));
        channel_affine_backward_kernel<T><<<blocks, kThreads, 0, 0>>>(
            typed<T>(gx), typed<double>(partial_shift), typed<double>(partial_log_scale), typed<T>(grad_y),
            typed<T>(y), typed<T>(scale), g, chunks, chunk_elements);
        FT_CUDA_CHECK_LAUNCH();
      }
    });
  }
  // With no elements per channel the partials are [C, 0] and the sums zeros.
  if (grad_x) *grad_x = gx;
  if (grad_shift) *grad_shift = dense_on_device(sum_last_dim(partial_shift), y.dtype());
  if (grad_log_scale) *grad_log_scale = dense_on_device(sum_last_dim(partial_log_scale), y.dtype());
}

void register_channel_affine(KernelTable& table) {
  table.channel_affine.add(DeviceKind::cuda, channel_affine, kFloat32And64);
  table.channel_affine_backward.add(DeviceKind::cuda, channel_affine_backward, kFloat32And64);
}

}  // namespace ft::kernels::cuda
