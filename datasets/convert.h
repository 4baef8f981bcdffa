// Conversion of an image source into a sharded image set. Streams block by block;
// shards are written under temporary names and renamed when complete; the manifest
// is written last, so an interrupted conversion leaves nothing that looks complete.
//
// A conversion splits into shards that depend only on their own source images, so
// several processes can each write a range of shards (convert_shards) and one of
// them writes the manifest from all the parts (finish_conversion). Blocks never
// straddle a shard, so every shard file is the same bytes however the work is split.
#pragma once
#include <filesystem>
#include <functional>
#include <string>

#include "datasets/image_source.h"
#include "datasets/manifest.h"

namespace ft::datasets {

enum class BadImagePolicy { fail, skip };
BadImagePolicy bad_image_policy_from_name(const std::string& name);

// Image and vector conversions (convert_vectors.h) share these; the image-only ones
// (resolution, channels, on_bad_image) must keep their defaults for vectors.
struct ConvertOptions {
  std::filesystem::path out;
  int64_t shards = 0;            // 0: derived from images_per_shard
  int64_t images_per_shard = 0;  // samples per shard; 0 with shards 0: shards of about 256 MiB
  int64_t resolution = 0;        // 0: the source's own (required for image folders)
  int64_t channels = 0;          // 0: the source's own, 3 for image folders
  BadImagePolicy on_bad_image = BadImagePolicy::fail;
  int64_t block_images = 512;    // images decoded per block (bounds memory)
  // Told about each skipped image (file and cause); stderr when empty.
  std::function<void(const std::string&)> report_skipped;
  // Told after each block how many source images this call has read so far.
  std::function<void(int64_t)> report_progress;
};

// What a conversion writes: the sample shape and how the source's samples (images
// or vectors) map to shards.
struct ConversionPlan {
  ImageShape shape;       // image sets
  int64_t features = 0;   // vector sets: D (shape stays empty)
  int64_t images = 0, shards = 0;  // `images` counts samples of either kind
  // Shard s holds the source images [first_image(s), first_image(s + 1)) that decode.
  int64_t first_image(int64_t shard) const { return images * shard / shards; }
};

// Checks the options against the source and fixes the shard count.
ConversionPlan plan_conversion(const ImageSource& source, const ConvertOptions& options);
// The number of shards for `samples` of `sample_bytes` each (--shards or --images-per-shard).
int64_t shard_count(int64_t samples, int64_t sample_bytes, const ConvertOptions& options);
// Creates the output folder; fails when it already holds a dataset.
void prepare_output(const std::filesystem::path& out);

// The shards one process wrote.
struct ConvertedShards {
  std::vector<ShardRecord> records;  // in shard order
  int64_t skipped_images = 0;
  int32_t max_label = -1;
  nlohmann::json to_json() const;
  static ConvertedShards from_json(const nlohmann::json& json);
};

// Writes shards [begin, end) of the plan. The source must stand at image
// plan.first_image(begin) (ImageSource::skip).
ConvertedShards convert_shards(ImageSource& source, const ConversionPlan& plan, const ConvertOptions& options,
                               int64_t begin, int64_t end);
// Writes the manifest of a conversion from all its parts, in shard order.
Manifest finish_conversion(const ImageSource& source, const ConversionPlan& plan,
                           const std::vector<ConvertedShards>& parts, const std::filesystem::path& out);
// The manifest's shards, count and classes from all the parts (either kind).
Manifest merge_converted_shards(const ConversionPlan& plan, const std::vector<ConvertedShards>& parts,
                                const std::vector<std::string>& class_names);

// The whole conversion in this process.
Manifest convert_images(ImageSource& source, const ConvertOptions& options);

}  // namespace ft::datasets
