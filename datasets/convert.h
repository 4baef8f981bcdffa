// Conversion of an image source into a sharded image set. Streams block by block;
// shards are written under temporary names and renamed when complete; the manifest
// is written last, so an interrupted conversion leaves nothing that looks complete.
#pragma once
#include <filesystem>
#include <functional>
#include <string>

#include "datasets/image_source.h"
#include "datasets/manifest.h"

namespace ft::datasets {

enum class BadImagePolicy { fail, skip };
BadImagePolicy bad_image_policy_from_name(const std::string& name);

struct ConvertOptions {
  std::filesystem::path out;
  int64_t shards = 0;            // 0: derived from images_per_shard
  int64_t images_per_shard = 0;  // 0 with shards 0: shards of about 256 MiB
  int64_t resolution = 0;        // 0: the source's own (required for image folders)
  int64_t channels = 0;          // 0: the source's own, 3 for image folders
  BadImagePolicy on_bad_image = BadImagePolicy::fail;
  int64_t block_images = 512;    // images decoded per block (bounds memory)
  // Told about each skipped image (file and cause); stderr when empty.
  std::function<void(const std::string&)> report_skipped;
};

Manifest convert_images(ImageSource& source, const ConvertOptions& options);

}  // namespace ft::datasets
