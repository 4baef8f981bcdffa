#include "framework/core/allocator.h"

#include <algorithm>
#include <cstdlib>

#include "framework/core/check.h"

namespace ft {

CachingCpuAllocator::~CachingCpuAllocator() { release_cached(); }

size_t CachingCpuAllocator::round_size(size_t bytes) {
  // Small sizes round to 64 bytes; larger ones to 1/8 of their power of two, which
  // bounds waste at 12.5% while letting similar shapes share blocks.
  if (bytes <= 4096) return std::max<size_t>(kAlignment, (bytes + kAlignment - 1) / kAlignment * kAlignment);
  size_t power = size_t(1) << (63 - __builtin_clzll(bytes - 1) + 1);
  size_t step = power / 8;
  return (bytes + step - 1) / step * step;
}

void* CachingCpuAllocator::allocate(size_t bytes) {
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
  void* ptr = std::aligned_alloc(kAlignment, size);
  if (!ptr) {
    release_cached();
    ptr = std::aligned_alloc(kAlignment, size);
  }
  FT_CHECK(ptr != nullptr, "out of host memory allocating {} bytes", size);
  std::lock_guard lock(mutex_);
  stats_.system_allocations++;
  stats_.bytes_in_use += size;
  stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
  return ptr;
}

void CachingCpuAllocator::deallocate(void* ptr, size_t bytes) {
  if (!ptr) return;
  size_t size = round_size(bytes);
  std::lock_guard lock(mutex_);
  free_blocks_[size].push_back(ptr);
  stats_.bytes_in_use -= size;
  stats_.bytes_cached += size;
}

AllocatorStats CachingCpuAllocator::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void CachingCpuAllocator::release_cached() {
  std::lock_guard lock(mutex_);
  for (auto& [size, blocks] : free_blocks_)
    for (void* p : blocks) std::free(p);
  free_blocks_.clear();
  stats_.bytes_cached = 0;
}

void CachingCpuAllocator::reset_peak() {
  std::lock_guard lock(mutex_);
  stats_.peak_bytes_in_use = stats_.bytes_in_use;
}

CachingCpuAllocator& cpu_allocator() {
  static CachingCpuAllocator* allocator = new CachingCpuAllocator();  // outlives static tensors
  return *allocator;
}

#if !defined(FLOWTRAIN_HAVE_CUDA)
Allocator& allocator_for(Device device) {
  FT_CHECK(device.kind == DeviceKind::cpu, "device {} requested but flowtrain was built without CUDA",
           device.str());
  return cpu_allocator();
}
#endif

}  // namespace ft
