// The optimizer's kernels on the GPU: the element math of optimizer_functors.h, the
// functions the CPU loops run. framework/CMakeLists.txt compiles this file with
// -fmad=false, so nvcc fuses no product into a sum the functors leave unfused and the
// updates equal the CPU's bit for bit. The squared norm sums the CPU's blocks (one
// CUDA block each, a tree inside) and adds the block sums on the host in order:
// repeatable to the bit, and within rounding of the CPU's sequential block sums.
#include <cuda_runtime.h>

#include <vector>

#include "framework/kernels/cuda/cuda_check.h"
#include "framework/kernels/cuda/cuda_device.h"
#include "framework/kernels/cuda/cuda_launch.cuh"
#include "framework/kernels/cuda/kernels_cuda.h"
#include "framework/kernels/dispatch.h"
#include "framework/kernels/optimizer_functors.h"

namespace ft::kernels::cuda {

namespace {

template <OptimizerRule rule, class T>
__global__ void optimizer_kernel(RoundedScalars<T> k, T* params, const T* grads, T* first, T* second, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) optimizer_element<rule>(k, params, grads, first, second, i);
}

template <class T>
__global__ void ema_kernel(T* shadow, const T* params, double keep, double take, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) shadow[i] = ema_element(shadow[i], params[i], keep, take);
}

template <class T>
__global__ void scale_kernel(T* x, double factor, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_stride()) x[i] = scaled_element(x[i], factor);
}

template <class T>
__global__ void squared_block_sums_kernel(double* partial, const T* x, int64_t n, int64_t blocks) {
  for (int64_t b = blockIdx.x; b < blocks; b += gridDim.x) {
    const int64_t begin = b * kSquaredNormBlock;
    const int64_t end = begin + kSquaredNormBlock < n ? begin + kSquaredNormBlock : n;
    double sum = 0.0;
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) sum += double(x[i]) * double(x[i]);
    sum = block_sum(sum);
    if (threadIdx.x == 0) partial[b] = sum;
  }
}

template <class T>
void update_typed(OptimizerRule rule, const OptimizerScalars& scalars, Tensor& params, const Tensor& grads,
                  Tensor& first, Tensor& second) {
  const int64_t n = params.numel();
  const RoundedScalars<T> k = rounded<T>(scalars);
  if (rule == OptimizerRule::adam)
    optimizer_kernel<OptimizerRule::adam, T><<<grid_for(n), kThreads, 0, 0>>>(
        k, typed<T>(params), typed<T>(grads), typed<T>(first), typed<T>(second), n);
  else
    optimizer_kernel<OptimizerRule::adamax, T><<<grid_for(n), kThreads, 0, 0>>>(
        k, typed<T>(params), typed<T>(grads), typed<T>(first), typed<T>(second), n);
  FT_CUDA_CHECK_LAUNCH();
}

void optimizer_update(OptimizerRule rule, const OptimizerScalars& scalars, Tensor& params, const Tensor& grads,
                      Tensor& first, Tensor& second) {
  use_device(params.device());
  if (params.numel() == 0) return;
  if (params.dtype() == DType::f64) update_typed<double>(rule, scalars, params, grads, first, second);
  else update_typed<float>(rule, scalars, params, grads, first, second);
}

void ema_update(Tensor& shadow, const Tensor& params, double decay) {
  use_device(shadow.device());
  const int64_t n = shadow.numel();
  if (n == 0) return;
  if (shadow.dtype() == DType::f64)
    ema_kernel<double><<<grid_for(n), kThreads, 0, 0>>>(typed<double>(shadow), typed<double>(params), decay,
                                                         1.0 - decay, n);
  else
    ema_kernel<float><<<grid_for(n), kThreads, 0, 0>>>(typed<float>(shadow), typed<float>(params), decay,
                                                       1.0 - decay, n);
  FT_CUDA_CHECK_LAUNCH();
}

void scale_inplace(Tensor& x, double factor) {
  use_device(x.device());
  const int64_t n = x.numel();
  if (n == 0) return;
  if (x.dtype() == DType::f64) scale_kernel<double><<<grid_for(n), kThreads, 0, 0>>>(typed<double>(x), factor, n);
  else scale_kernel<float><<<grid_for(n), kThreads, 0, 0>>>(typed<float>(x), factor, n);
  FT_CUDA_CHECK_LAUNCH();
}

double squared_norm(const Tensor& x) {
  use_device(x.device());
  const int64_t n = x.numel();
  const int64_t blocks = (n + kSquaredNormBlock - 1) / kSquaredNormBlock;
  if (blocks == 0) return 0.0;
  Tensor partial = Tensor::empty({blocks}, DType::f64, x.device());
  const unsigned grid = unsigned(std::min(blocks, kMaxBlocks));
  if (x.dtype() == DType::f64)
    squared_block_sums_kernel<double><<<grid, kThreads, 0, 0>>>(typed<double>(partial), typed<double>(x), n, blocks);
  else
    squared_block_sums_kernel<float><<<grid, kThreads, 0, 0>>>(typed<double>(partial), typed<float>(x), n, blocks);
  FT_CUDA_CHECK_LAUNCH();
  std::vector<double> host(size_t(blocks), 0.0);
  FT_CUDA_CHECK(cudaMemcpy(host.data(), partial.raw_data(), size_t(blocks) * sizeof(double), cudaMemcpyDeviceToHost));
  double total = 0.0;
  for (double p : host) total += p;
  return total;
}

}  // namespace

void register_optimizer(KernelTable& table) {
  table.optimizer_update.add(DeviceKind::cuda, optimizer_update, kFloat32And64);
  table.ema_update.add(DeviceKind::cuda, ema_update, kFloat32And64);
  table.scale_inplace.add(DeviceKind::cuda, scale_inplace, kFloat32And64);
  table.squared_norm.add(DeviceKind::cuda, squared_norm, kFloat32And64);
}

}  // namespace ft::kernels::cuda
