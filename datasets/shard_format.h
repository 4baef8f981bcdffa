// The layout of one shard file. An image shard holds `images` uint8 [N, H, W, C]
// chunked by blocks of images; a vector shard holds `features` float32 [N, D].
// Both hold `labels` int32 [N] (-1 when unlabelled) and root attributes naming the
// format, its version, the layout and the shard's place in the set. Version 1 is an
// image shard (unchanged since the first release); version 2 adds the attributes
// `kind` ("vectors") and `features` (D), with layout "ND".
#pragma once
#include <cstdint>
#include <string>

#include <fmt/format.h>

namespace ft::datasets {

inline constexpr const char* kShardFormat = "flowtrain-imageset-shard";
inline constexpr int64_t kShardVersion = 1;        // image shards
inline constexpr int64_t kVectorShardVersion = 2;  // vector shards
inline constexpr const char* kImagesDataset = "images";
inline constexpr const char* kFeaturesDataset = "features";
inline constexpr const char* kLabelsDataset = "labels";

inline std::string shard_file_name(int64_t index, int64_t count) {
  return fmt::format("shard-{:05d}-of-{:05d}.h5", index, count);
}

// Chunks of about 1 MiB (hundreds of small images): large enough for sequential
// reads, and never compressed, so a single image is read straight from the file.
inline int64_t images_per_chunk(int64_t image_bytes) {
  int64_t images = (int64_t(1) << 20) / (image_bytes > 0 ? image_bytes : 1);
  return images < 16 ? 16 : (images > 256 ? 256 : images);
}

// Vectors are small (a 2-D point is 8 bytes): up to 4096 rows a chunk, so a small
// set does not pay for a whole 1 MiB chunk, and at most about 1 MiB.
inline int64_t vectors_per_chunk(int64_t vector_bytes) {
  int64_t rows = (int64_t(1) << 20) / (vector_bytes > 0 ? vector_bytes : 1);
  return rows < 16 ? 16 : (rows > 4096 ? 4096 : rows);
}

}  // namespace ft::datasets
