#include "framework/core/allocator.h"

#include <algorithm>
#include <cstdlib>

#include "framework/core/check.h"

namespace ft {

CachingCpuAllocator::~CachingCpuAllocator() { release_cached(); }

void* CachingCpuAllocator::allocate(size_t bytes) {
  size_t size = round_size(bytes);
  if (void* cached = cache_.take(size)) return cached;
  void* ptr = std::aligned_alloc(kAlignment, size);
  if (!ptr) {
    release_cached();  // blocks of other sizes may cover the request once returned
    ptr = std::aligned_alloc(kAlignment, size);
  }
  FT_CHECK(ptr != nullptr, "out of host memory allocating {} bytes", size);
  cache_.count_new_block(size);
  return ptr;
}

void CachingCpuAllocator::deallocate(void* ptr, size_t bytes) {
  if (ptr) cache_.give_back(ptr, round_size(bytes));
}

void CachingCpuAllocator::release_cached() {
  cache_.release([](void* ptr, size_t) { std::free(ptr); });
}

CachingCpuAllocator& cpu_allocator() {
  static CachingCpuAllocator* allocator = new CachingCpuAllocator();  // outlives static tensors
  return *allocator;
}

Allocator& cpu_allocator_for(Device device) {
  FT_CHECK(device.kind == DeviceKind::cpu && device.index >= 0 && device.index < kCpuDevices,
           "device {}: the CPU devices are cpu:0 to cpu:{}", device.str(), kCpuDevices - 1);
  return cpu_allocator();
}

#if !defined(FLOWTRAIN_HAVE_CUDA)
Allocator& allocator_for(Device device) {
  FT_CHECK(device.kind == DeviceKind::cpu, "device {} requested but flowtrain was built without CUDA",
           device.str());
  return cpu_allocator_for(device);
}
#endif

}  // namespace ft
