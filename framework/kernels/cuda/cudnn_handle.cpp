#include "framework/kernels/cuda/cudnn_handle.h"

#include <mutex>
#include <vector>

#include "framework/kernels/cuda/cuda_check.h"
#include "framework/kernels/cuda/cuda_device.h"

namespace ft::kernels::cuda {

cudnnHandle_t cudnn_handle(int device_index) {
  static std::mutex mutex;
  static auto* handles = new std::vector<cudnnHandle_t>();
  std::lock_guard lock(mutex);
  if (handles->size() <= size_t(device_index)) handles->resize(size_t(device_index) + 1, nullptr);
  cudnnHandle_t& handle = (*handles)[size_t(device_index)];
  if (!handle) {
    use_device(Device::cuda(device_index));
    FT_CUDNN_CHECK(cudnnCreate(&handle));
    FT_CUDNN_CHECK(cudnnSetStream(handle, cudaStream_t(0)));
  }
  return handle;
}

}  // namespace ft::kernels::cuda
