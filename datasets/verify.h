// `flowtrain data verify` and `data info`: whole-dataset checks and a summary.
#pragma once
#include <filesystem>
#include <string>

#include "datasets/manifest.h"

namespace ft::datasets {

// Checks every shard (counts, shapes, checksums) in order; throws naming the first
// bad file. Returns the manifest when all are good.
Manifest verify_dataset(const std::filesystem::path& dir);
// A human-readable summary of a dataset's manifest.
std::string describe_dataset(const std::filesystem::path& dir, const Manifest& manifest);

}  // namespace ft::datasets
