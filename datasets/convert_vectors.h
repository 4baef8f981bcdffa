// Conversion of a vector source into a sharded vector set, the vector twin of
// convert.h: the same shard planning (--shards, --images-per-shard counting
// vectors), temporary shard names, checksums, the same split of shards across
// processes, and the manifest written last. The image-only options (resolution,
// channels, on_bad_image) must keep their defaults.
#pragma once
#include <filesystem>
#include <vector>

#include "datasets/convert.h"
#include "datasets/vector_source.h"

namespace ft::datasets {

// Checks the options against the source and fixes the shard count (plan.features = D).
ConversionPlan plan_conversion(const VectorSource& source, const ConvertOptions& options);
// Writes shards [begin, end) of the plan. The source must stand at vector
// plan.first_image(begin) (VectorSource::skip).
ConvertedShards convert_shards(VectorSource& source, const ConversionPlan& plan, const ConvertOptions& options,
                               int64_t begin, int64_t end);
// Writes the manifest (version 2, kind "vectors") from all the parts, in shard order.
Manifest finish_conversion(const VectorSource& source, const ConversionPlan& plan,
                           const std::vector<ConvertedShards>& parts, const std::filesystem::path& out);

// The whole conversion in this process.
Manifest convert_vectors(VectorSource& source, const ConvertOptions& options);

}  // namespace ft::datasets
