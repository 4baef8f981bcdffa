// The CUDA backend's entry in the kernel table: every kernel file registers its
// own ops, for every GPU.
#include <cuda_runtime_api.h>

#include "framework/kernels/cuda/cuda_check.h"
#include "framework/kernels/cuda/cuda_device.h"
#include "framework/kernels/cuda/kernels_cuda.h"
#include "framework/kernels/dispatch.h"

namespace ft::kernels::cuda {

void register_kernels(KernelTable& table) {
  register_copy(table);
  register_elementwise(table);
  register_reduce(table);
  register_matmul(table);
  register_norm(table);
  register_channel_affine(table);
  register_index(table);
  register_linalg(table);
  register_conv(table);
  register_attention(table);
  register_optimizer(table);
}

void synchronize(int device_index) {
  use_device(Device::cuda(device_index));
  FT_CUDA_CHECK(cudaDeviceSynchronize());
}

}  // namespace ft::kernels::cuda
