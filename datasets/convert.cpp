#include "datasets/convert.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "framework/core/check.h"

namespace ft::datasets {

BadImagePolicy bad_image_policy_from_name(const std::string& name) {
  if (name == "fail") return BadImagePolicy::fail;
  if (name == "skip") return BadImagePolicy::skip;
  FT_FAIL("--on-bad-image {}: expected skip or fail", name);
}

namespace {

ImageShape target_shape(const ImageSource& source, const ConvertOptions& options) {
  std::optional<ImageShape> native = source.native_shape();
  if (!native && options.resolution <= 0) FT_FAIL("--resolution is required for an image folder");
  if (options.resolution < 0) FT_FAIL("--resolution {} is negative", options.resolution);
  int64_t channels = options.channels > 0 ? options.channels : (native ? native->channels : 3);
  if (channels != 1 && channels != 3 && channels != 4) FT_FAIL("--channels {} is not 1, 3 or 4", channels);
  if (options.resolution > 0) return {options.resolution, options.resolution, channels};
  if (native->height != native->width && channels != native->channels)
    FT_FAIL("non-square source images need --resolution");
  return {native->height, native->width, channels};
}

int64_t shard_count(int64_t images, int64_t image_bytes, const ConvertOptions& options) {
  if (options.shards > 0 && options.images_per_shard > 0) FT_FAIL("give --shards or --images-per-shard, not both");
  if (options.shards < 0 || options.images_per_shard < 0) FT_FAIL("--shards and --images-per-shard must be positive");
  if (options.shards > 0) {
    if (options.shards > images) FT_FAIL("--shards {} is more than the {} images", options.shards, images);
    return options.shards;
  }
  int64_t per_shard = options.images_per_shard > 0 ? options.images_per_shard
                                                   : std::max<int64_t>(1, (int64_t(256) << 20) / image_bytes);
  return (images + per_shard - 1) / per_shard;
}

// Writes shards in order; shard s holds source images [N*s/S, N*(s+1)/S) that decoded.
class ShardSequence {
 public:
  ShardSequence(const std::filesystem::path& dir, int64_t images, int64_t shards, ImageShape shape)
      : dir_(dir), images_(images), shards_(shards), shape_(shape) {}

  int64_t shard_of(int64_t source_index) const {
    // The largest s with N*s/S <= index.
    int64_t s = (source_index * shards_ + shards_ - 1) / images_;
    while (s > 0 && first_of(s) > source_index) --s;
    while (s + 1 < shards_ && first_of(s + 1) <= source_index) ++s;
    return s;
  }
  int64_t first_of(int64_t shard) const { return images_ * shard / shards_; }

  void append(int64_t shard, const uint8_t* images, const int32_t* labels, int64_t count) {
    finish_until(shard);
    if (!writer_) writer_ = std::make_unique<ShardWriter>(dir_, shard, shards_, shape_);
    writer_->append(images, labels, count);
  }
  // Finishes every shard before `shard` (empty ones too).
  void finish_until(int64_t shard) {
    while (int64_t(records_.size()) < shard) {
      if (!writer_) writer_ = std::make_unique<ShardWriter>(dir_, int64_t(records_.size()), shards_, shape_);
      records_.push_back(writer_->finish());
      writer_.reset();
    }
  }
  std::vector<ShardRecord> finish_all() {
    finish_until(shards_);
    return records_;
  }

 private:
  std::filesystem::path dir_;
  int64_t images_, shards_;
  ImageShape shape_;
  std::unique_ptr<ShardWriter> writer_;
  std::vector<ShardRecord> records_;
};

void prepare_output(const std::filesystem::path& out) {
  if (out.empty()) FT_FAIL("--out is required");
  if (std::filesystem::exists(out / kManifestFile))
    FT_FAIL("{}: already holds a dataset (manifest.json); choose another --out", out.string());
  std::error_code error;
  std::filesystem::create_directories(out, error);
  if (error) FT_FAIL("{}: cannot create: {}", out.string(), error.message());
}

}  // namespace

Manifest convert_images(ImageSource& source, const ConvertOptions& options) {
  ImageShape shape = target_shape(source, options);
  int64_t images = source.size();
  if (images == 0) FT_FAIL("the source holds no images");
  int64_t shards = shard_count(images, shape.bytes(), options);
  prepare_output(options.out);
  auto report = options.report_skipped ? options.report_skipped
                                       : [](const std::string& line) { fmt::print(stderr, "skipped: {}\n", line); };

  ShardSequence sequence(options.out, images, shards, shape);
  SourceBlock block;
  Manifest manifest;
  int32_t max_label = -1;
  for (int64_t first = 0; first < images; first += options.block_images) {
    int64_t count = std::min(options.block_images, images - first);
    source.read(count, shape, block);
    // Compact the decoded images of each shard's run, then append the run.
    for (int64_t at = 0; at < count;) {
      int64_t shard = sequence.shard_of(first + at);
      int64_t run_end = std::min(count, (shard + 1 < shards ? sequence.first_of(shard + 1) : images) - first);
      int64_t kept = 0;
      for (int64_t i = at; i < run_end; ++i) {
        if (!block.errors[size_t(i)].empty()) {
          if (options.on_bad_image == BadImagePolicy::fail)
            FT_FAIL("{} (pass --on-bad-image skip to skip such images)", block.errors[size_t(i)]);
          report(block.errors[size_t(i)]);
          ++manifest.skipped_images;
          continue;
        }
        int64_t to = at + kept++;
        if (to != i) {
          std::memcpy(block.pixels.data() + to * shape.bytes(), block.pixels.data() + i * shape.bytes(), size_t(shape.bytes()));
          block.labels[size_t(to)] = block.labels[size_t(i)];
        }
        max_label = std::max(max_label, block.labels[size_t(to)]);
      }
      if (kept > 0) sequence.append(shard, block.pixels.data() + at * shape.bytes(), block.labels.data() + at, kept);
      at = run_end;
    }
  }
  manifest.shards = sequence.finish_all();
  manifest.height = shape.height;
  manifest.width = shape.width;
  manifest.channels = shape.channels;
  for (const ShardRecord& shard : manifest.shards) manifest.count += shard.count;
  if (manifest.count == 0) FT_FAIL("no image of the source decoded ({} skipped)", manifest.skipped_images);
  manifest.class_names = source.class_names();
  manifest.num_classes = std::max<int64_t>(int64_t(manifest.class_names.size()), max_label + 1);
  manifest.source = source.description();
  write_manifest(options.out, manifest);
  return manifest;
}

}  // namespace ft::datasets
