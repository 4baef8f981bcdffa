// The caching allocator for one CUDA device. Freed blocks go to per-size free lists
// and are handed out again without cudaMalloc/cudaFree, which synchronise the
// device and cost far more than a training step's many small allocations.
//
// Reuse is safe because every flowtrain kernel and copy runs on the device's
// legacy default stream: work that reads a block before it is freed is ordered
// before work that writes the block after it is handed out again. Code that
// queues work on another stream (NCCL) must synchronise that stream before the
// tensors it uses are released.
#pragma once
#include <vector>

#include "framework/core/allocator.h"

namespace ft {

class CachingCudaAllocator final : public Allocator {
 public:
  explicit CachingCudaAllocator(int device_index) : device_index_(device_index) {}
  void* allocate(size_t bytes) override;
  void deallocate(void* ptr, size_t bytes) override;
  Device device() const override { return Device::cuda(device_index_); }
  AllocatorStats stats() const { return cache_.stats(); }
  void release_cached();  // cudaFree of every cached block
  void reset_peak() { cache_.reset_peak(); }

  // Size classes: 512-byte multiples up to 1 MiB, then 1/8 of the power of two.
  static size_t round_size(size_t bytes) { return size_class(bytes, 512, size_t(1) << 20); }

 private:
  int device_index_;
  BlockCache cache_;
};

// The caching allocator of cuda:index (created on first use; throws if the device
// is not visible).
CachingCudaAllocator& cuda_allocator(int device_index);

}  // namespace ft
