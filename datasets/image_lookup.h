// Images by their index in a dataset folder (0 .. count-1, shards in manifest
// order), read as stored: what `flowtrain reconstruct` and `interpolate` pick from
// a test set. Training and evaluation read through Reader instead.
#pragma once
#include <filesystem>
#include <vector>

#include "datasets/shard_writer.h"
#include "framework/core/tensor.h"

namespace ft::datasets {

struct ImagesAt {
  Tensor pixels;  // u8 [n, H, W, C]
  Tensor labels;  // i64 [n], -1 when unlabelled
  ImageShape shape;
};

// Every shard read is checked against the manifest first (size, format, shapes,
// not the checksum); an index outside the set is an error naming the folder.
ImagesAt read_images_at(const std::filesystem::path& dir, const std::vector<int64_t>& indices);

}  // namespace ft::datasets
