// `flowtrain data verify` and `data info`: whole-dataset checks and a summary.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "datasets/manifest.h"

namespace ft::datasets {

// Checks every shard (counts, shapes, checksums) in order; throws naming the first
// bad file. Returns the manifest when all are good. on_shard(samples checked so far,
// samples in the set) after each shard, for a progress line.
Manifest verify_dataset(const std::filesystem::path& dir,
                        const std::function<void(int64_t done, int64_t total)>& on_shard = {});
// A human-readable summary of a dataset's manifest: kind, count, sample shape,
// shards, classes, source.
std::string describe_dataset(const std::filesystem::path& dir, const Manifest& manifest);

}  // namespace ft::datasets
