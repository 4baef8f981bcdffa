// CUDA builds: the per-device caching allocators, allocator_for() and the device
// queries of cuda_runtime.h.
#include "framework/kernels/cuda/cuda_allocator.h"

#include <algorithm>
#include <memory>

#include "framework/core/check.h"
#include "framework/kernels/cuda/cuda_check.h"
#include "framework/kernels/cuda/cuda_runtime.h"

namespace ft {

namespace {

// Makes device_index current for this thread; cudaMalloc/cudaFree act on it.
void make_current(int device_index) {
  int current = -1;
  FT_CUDA_CHECK(cudaGetDevice(&current));
  if (current != device_index) FT_CUDA_CHECK(cudaSetDevice(device_index));
}

}  // namespace

bool cuda_device_available() { return cuda_device_count() > 0; }

int cuda_device_count() {
  // Asked once: a missing driver or device is an answer here (0), not an error,
  // so CPU-only machines run CUDA builds and GPU tests skip.
  static const int count = [] {
    int n = 0;
    cudaError_t status = cudaGetDeviceCount(&n);
    if (status != cudaSuccess) {
      (void)cudaGetLastError();  // clear it, or the next launch check would report it
      return 0;
    }
    return n;
  }();
  return count;
}

std::string cuda_device_name(int index) {
  if (index < 0 || index >= cuda_device_count()) return "";
  cudaDeviceProp properties{};
  FT_CUDA_CHECK(cudaGetDeviceProperties(&properties, index));
  return properties.name;
}

void* CachingCudaAllocator::allocate(size_t bytes) {
  size_t size = round_size(bytes);
  if (void* cached = cache_.take(size)) return cached;
  make_current(device_index_);
  void* ptr = nullptr;
  cudaError_t status = cudaMalloc(&ptr, size);
  if (status == cudaErrorMemoryAllocation) {
    // Cached blocks of other sizes may cover the request once returned.
    (void)cudaGetLastError();  // an allocation failure is not sticky; clear it before retrying
    release_cached();
    status = cudaMalloc(&ptr, size);
  }
  if (status == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    AllocatorStats s = stats();
    FT_FAIL("out of memory on cuda:{} allocating {} bytes ({} bytes in use by tensors, peak {}); lower the "
            "batch size",
            device_index_, size, s.bytes_in_use, s.peak_bytes_in_use);
  }
  FT_CUDA_CHECK(status);
  cache_.count_new_block(size);
  return ptr;
}

void CachingCudaAllocator::deallocate(void* ptr, size_t bytes) {
  if (ptr) cache_.give_back(ptr, round_size(bytes));
}

void CachingCudaAllocator::release_cached() {
  make_current(device_index_);
  cache_.release([](void* ptr, size_t) { FT_CUDA_CHECK(cudaFree(ptr)); });
}

CachingCudaAllocator& cuda_allocator(int device_index) {
  int count = cuda_device_count();
  FT_CHECK(device_index >= 0 && device_index < count, "device cuda:{} requested but {} CUDA device(s) are usable",
           device_index, count);
  static std::mutex mutex;
  // Never destroyed: tensors in static storage free their blocks after main
  // returns, and cudaFree after the runtime unloads would fail.
  static auto* allocators = new std::vector<std::unique_ptr<CachingCudaAllocator>>();
  std::lock_guard lock(mutex);
  if (allocators->empty()) allocators->resize(size_t(count));
  auto& slot = (*allocators)[size_t(device_index)];
  if (!slot) slot = std::make_unique<CachingCudaAllocator>(device_index);
  return *slot;
}

Allocator& allocator_for(Device device) {
  if (device.kind == DeviceKind::cpu) return cpu_allocator_for(device);
  return cuda_allocator(device.index);
}

}  // namespace ft
