// The layout of one shard file: `images` uint8 [N, H, W, C] chunked by blocks of
// images, `labels` int32 [N] (-1 when unlabelled), and root attributes naming the
// format, its version, the layout and the shard's place in the set.
#pragma once
#include <cstdint>
#include <string>

#include <fmt/format.h>

namespace ft::datasets {

inline constexpr const char* kShardFormat = "flowtrain-imageset-shard";
inline constexpr int64_t kShardVersion = 1;
inline constexpr const char* kImagesDataset = "images";
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

}  // namespace ft::datasets
