// Writes one shard (of images or of vectors, see shard_format.h) under a temporary
// name; finish() closes, checksums, fsyncs and renames it, so a shard under its
// final name is always complete.
#pragma once
#include <cstdint>
#include <filesystem>

#include "datasets/manifest.h"
#include "framework/io/hdf5_file.h"

namespace ft::datasets {

struct ImageShape {
  int64_t height = 0, width = 0, channels = 0;
  int64_t bytes() const { return height * width * channels; }
  bool operator==(const ImageShape&) const = default;
};

// One float32 vector of D features.
struct VectorShape {
  int64_t features = 0;
  int64_t bytes() const { return features * int64_t(sizeof(float)); }
};

class ShardWriter {
 public:
  // An image shard.
  ShardWriter(const std::filesystem::path& dir, int64_t shard_index, int64_t num_shards, ImageShape shape);
  // A vector shard.
  ShardWriter(const std::filesystem::path& dir, int64_t shard_index, int64_t num_shards, VectorShape shape);
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;
  // Removes the temporary file when the shard was never finished.
  ~ShardWriter();

  // `count` images (NHWC uint8, contiguous) and their labels; image shards only.
  void append(const uint8_t* images, const int32_t* labels, int64_t count);
  // `count` vectors (row-major float32 [count, D]) and their labels; vector shards only.
  void append(const float* features, const int32_t* labels, int64_t count);
  int64_t count() const { return count_; }
  ShardRecord finish();

 private:
  ShardWriter(const std::filesystem::path& dir, int64_t shard_index, int64_t num_shards, SetKind kind);
  void append_rows(io::H5Type type, const void* samples, const int32_t* labels, int64_t count);

  std::filesystem::path final_path_, temporary_path_;
  int64_t shard_index_, num_shards_;
  SetKind kind_;
  int64_t features_ = 0;
  io::H5File file_;
  io::H5Dataset samples_, labels_;  // `images` or `features`
  int64_t count_ = 0;
  bool finished_ = false;
};

}  // namespace ft::datasets
