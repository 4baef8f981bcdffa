// One worker thread's open shards: a handle per shard, opened on first use, with
// the least recently used closed beyond a limit so thousands of shards do not
// exhaust file descriptors. Never shared between threads. A small vector shard
// (up to kResidentVectorShardBytes) is read whole when opened and served from
// memory: its rows are a few bytes each, and one HDF5 read per row would cost far
// more than the row.
#pragma once
#include <filesystem>
#include <memory>
#include <vector>

#include "datasets/manifest.h"
#include "framework/io/hdf5_file.h"

namespace ft::datasets {

inline constexpr int64_t kResidentVectorShardBytes = int64_t(16) << 20;

class ShardHandles {
 public:
  ShardHandles(std::filesystem::path dir, const Manifest& manifest, size_t max_open = 64,
               int64_t resident_bytes = kResidentVectorShardBytes);
  // Reads sample `index` of `shard` as stored into out: an image (uint8 HWC,
  // manifest.image_bytes()) or a vector (float32 [D], manifest.sample_bytes()).
  void read_sample(size_t shard, int64_t index, void* out);
  // Checks that every shard read since the last call still has its manifest size.
  // HDF5 reads past the end of a file as zeros, so a shard truncated while training
  // would otherwise feed the model blank images without a word.
  void check_read_shards_intact();

 private:
  struct OpenShard {
    io::H5File file;
    io::H5Dataset samples;  // `images` or `features`; declared after file: closed first
    std::vector<float> resident;  // a small vector shard's features, whole
    uint64_t last_use = 0;
  };
  OpenShard& open(size_t shard);

  std::filesystem::path dir_;
  const Manifest& manifest_;
  size_t max_open_, open_count_ = 0;
  int64_t resident_bytes_;
  uint64_t clock_ = 0;
  std::vector<size_t> read_since_check_;
  std::vector<std::unique_ptr<OpenShard>> shards_;
};

}  // namespace ft::datasets
