#include "framework/core/block_cache.h"

#include <algorithm>

namespace ft {

size_t size_class(size_t bytes, size_t small_step, size_t small_limit) {
  if (bytes <= small_limit) return std::max(small_step, (bytes + small_step - 1) / small_step * small_step);
  size_t power = size_t(1) << (64 - __builtin_clzll(bytes - 1));
  size_t step = power / 8;
  return (bytes + step - 1) / step * step;
}

void* BlockCache::take(size_t size) {
  std::lock_guard lock(mutex_);
  auto it = free_blocks_.find(size);
  if (it == free_blocks_.end() || it->second.empty()) return nullptr;
  void* ptr = it->second.back();
  it->second.pop_back();
  stats_.bytes_cached -= size;
  stats_.bytes_in_use += size;
  stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
  return ptr;
}

void BlockCache::count_new_block(size_t size) {
  std::lock_guard lock(mutex_);
  stats_.system_allocations++;
  stats_.bytes_in_use += size;
  stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
}

void BlockCache::give_back(void* ptr, size_t size) {
  std::lock_guard lock(mutex_);
  free_blocks_[size].push_back(ptr);
  stats_.bytes_in_use -= size;
  stats_.bytes_cached += size;
}

void BlockCache::release(const std::function<void(void*, size_t)>& free_block) {
  std::lock_guard lock(mutex_);
  for (auto& [size, blocks] : free_blocks_) {
    while (!blocks.empty()) {
      free_block(blocks.back(), size);
      blocks.pop_back();
      stats_.bytes_cached -= size;
    }
  }
  free_blocks_.clear();
}

AllocatorStats BlockCache::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void BlockCache::reset_peak() {
  std::lock_guard lock(mutex_);
  stats_.peak_bytes_in_use = stats_.bytes_in_use;
}

}  // namespace ft
