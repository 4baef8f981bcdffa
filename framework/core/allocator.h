// Caching allocators, one per device. Freed blocks are kept in per-size free lists
// and handed out again, so a training step that allocates the same shapes every
// iteration stops calling the system allocator after the first step.
#pragma once
#include <cstddef>

#include "framework/core/block_cache.h"
#include "framework/core/dtype.h"

namespace ft {

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* ptr, size_t bytes) = 0;
  virtual Device device() const = 0;
};

class CachingCpuAllocator final : public Allocator {
 public:
  static constexpr size_t kAlignment = 64;
  ~CachingCpuAllocator() override;
  void* allocate(size_t bytes) override;
  void deallocate(void* ptr, size_t bytes) override;
  Device device() const override { return Device::cpu(); }
  AllocatorStats stats() const { return cache_.stats(); }
  void release_cached();  // returns every cached block to the system
  void reset_peak() { cache_.reset_peak(); }

 private:
  static size_t round_size(size_t bytes) { return size_class(bytes, kAlignment, 4096); }
  BlockCache cache_;
};

// The allocator for a device: the CPU one always; a CUDA one when built with CUDA.
Allocator& allocator_for(Device device);
CachingCpuAllocator& cpu_allocator();
// The CPU allocator for cpu:0 and cpu:1 (both host memory); other indices throw.
Allocator& cpu_allocator_for(Device device);

}  // namespace ft
