// Checks one shard against the manifest: present, the recorded size, optionally the
// checksum, readable as HDF5, the format attributes, and images (or features)/labels shapes.
// Errors name the shard file.
#pragma once
#include <filesystem>
#include <vector>

#include "datasets/manifest.h"

namespace ft::datasets {

// The shard is present, has its manifest size and its manifest checksum (reads the
// whole file). check_shard does this when asked; readers of a job split it across ranks.
void verify_shard_checksum(const std::filesystem::path& dir, const Manifest& manifest, size_t shard);

// Returns the shard's labels (they are small; the reader keeps them in memory).
std::vector<int32_t> check_shard(const std::filesystem::path& dir, const Manifest& manifest, size_t shard,
                                 bool verify_checksum);

}  // namespace ft::datasets
