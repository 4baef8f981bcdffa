// What every caching allocator keeps: free lists of blocks by size class and the
// byte counts. The CPU and CUDA allocators differ only in where blocks come from.
#pragma once
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

namespace ft {

struct AllocatorStats {
  size_t bytes_in_use = 0;  // handed out to tensors now
  size_t peak_bytes_in_use = 0;
  size_t bytes_cached = 0;  // held in free lists
  size_t system_allocations = 0;
};

// Size classes: multiples of small_step up to small_limit, then multiples of 1/8 of
// the next power of two (at most 12.5% waste while similar shapes share blocks).
size_t size_class(size_t bytes, size_t small_step, size_t small_limit);

class BlockCache {
 public:
  // A cached block of exactly `size` bytes, now counted in use; nullptr when none.
  void* take(size_t size);
  // A block fresh from the system, now counted in use.
  void count_new_block(size_t size);
  // A block the tensors no longer use goes back to its free list.
  void give_back(void* ptr, size_t size);
  // Hands every cached block to free_block and forgets it.
  void release(const std::function<void(void*, size_t)>& free_block);
  AllocatorStats stats() const;
  void reset_peak();

 private:
  mutable std::mutex mutex_;
  std::map<size_t, std::vector<void*>> free_blocks_;
  AllocatorStats stats_;
};

}  // namespace ft
