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

constexpr size_t kSmallLimit = size_t(1) << 20;
constexpr size_t kSmallStep = 512;

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

size_t CachingCudaAllocator::round_size(size_t bytes) {
  if (bytes <= kSmallLimit) return std::max(kSmallStep, (bytes + kSmallStep - 1) / kSmallStep * kSmallStep);
  size_t power = size_t(1) << (63 - __builtin_clzll(bytes - 1) + 1);
  size_t step = power / 8;
  return (bytes + step - 1) / step * step;
}

void* CachingCudaAllocator::allocate(size_t bytes) {
  size_t size = round_size(bytes);
  {
    std::lock_guard lock(mutex_);
    auto it = free_blocks_.find(size);
    if (it != free_blocks_.end() && !it->second.empty()) {
      void* ptr = it->second.back();
      it->second.pop_back();
      stats_.bytes_cached -= size;
      stats_.bytes_in_use += size;
      stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
      return ptr;
    }
  }
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
  std::lock_guard lock(mutex_);
  stats_.system_allocations++;
  stats_.bytes_in_use += size;
  stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
  return ptr;
}

void CachingCudaAllocator::deallocate(void* ptr, size_t bytes) {
  if (!ptr) return;
  size_t size = round_size(bytes);
  std::lock_guard lock(mutex_);
  free_blocks_[size].push_back(ptr);
  stats_.bytes_in_use -= size;
  stats_.bytes_cached += size;
}

AllocatorStats CachingCudaAllocator::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void CachingCudaAllocator::release_cached() {
  std::lock_guard lock(mutex_);
  make_current(device_index_);
  for (auto& [size, blocks] : free_blocks_) {
    while (!blocks.empty()) {
      FT_CUDA_CHECK(cudaFree(blocks.back()));
      blocks.pop_back();
      stats_.bytes_cached -= size;
    }
  }
  free_blocks_.clear();
}

void CachingCudaAllocator::reset_peak() {
  std::lock_guard lock(mutex_);
  stats_.peak_bytes_in_use = stats_.bytes_in_use;
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
  if (device.kind == DeviceKind::cpu) return cpu_allocator();
  return cuda_allocator(device.index);
}

}  // namespace ft
