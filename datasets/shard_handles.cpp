#include "datasets/shard_handles.h"

#include <algorithm>
#include <cstring>

#include "datasets/shard_format.h"
#include "framework/core/check.h"

namespace ft::datasets {

ShardHandles::ShardHandles(std::filesystem::path dir, const Manifest& manifest, size_t max_open,
                           int64_t resident_bytes)
    : dir_(std::move(dir)),
      manifest_(manifest),
      max_open_(std::max<size_t>(1, max_open)),
      resident_bytes_(resident_bytes),
      shards_(manifest.shards.size()) {}

ShardHandles::OpenShard& ShardHandles::open(size_t shard) {
  std::unique_ptr<OpenShard>& slot = shards_[shard];
  if (!slot) {
    if (open_count_ == max_open_) {
      auto oldest = std::min_element(shards_.begin(), shards_.end(), [](const auto& a, const auto& b) {
        if (!a || !b) return bool(a);
        return a->last_use < b->last_use;
      });
      oldest->reset();
      --open_count_;
    }
    slot = std::make_unique<OpenShard>();
    slot->file = io::H5File::open_read((dir_ / manifest_.shards[shard].file).string());
    // No chunk cache: samples are read in random order, one image at a time, so
    // caching whole chunks would read hundreds of images to use one.
    slot->samples = slot->file.open_dataset(manifest_.is_vectors() ? kFeaturesDataset : kImagesDataset, 0);
    const ShardRecord& record = manifest_.shards[shard];
    if (manifest_.is_vectors() && record.count * manifest_.sample_bytes() <= resident_bytes_) {
      slot->resident.resize(size_t(record.count * manifest_.features));
      slot->samples.read_all(io::H5Type::f32, slot->resident.data());
    }
    ++open_count_;
  }
  slot->last_use = ++clock_;
  return *slot;
}

void ShardHandles::read_sample(size_t shard, int64_t index, void* out) {
  OpenShard& open_shard = open(shard);
  if (!open_shard.resident.empty()) {
    FT_CHECK(index >= 0 && index < manifest_.shards[shard].count, "row {} outside shard {}", index, shard);
    std::memcpy(out, open_shard.resident.data() + index * manifest_.features, size_t(manifest_.sample_bytes()));
  } else {
    open_shard.samples.read_rows(index, 1, manifest_.is_vectors() ? io::H5Type::f32 : io::H5Type::u8, out);
  }
  if (read_since_check_.empty() || read_since_check_.back() != shard) read_since_check_.push_back(shard);
}

void ShardHandles::check_read_shards_intact() {
  std::sort(read_since_check_.begin(), read_since_check_.end());
  read_since_check_.erase(std::unique(read_since_check_.begin(), read_since_check_.end()), read_since_check_.end());
  for (size_t shard : read_since_check_) {
    const ShardRecord& record = manifest_.shards[shard];
    std::filesystem::path path = dir_ / record.file;
    std::error_code error;
    auto bytes = int64_t(std::filesystem::file_size(path, error));
    if (error || bytes != record.bytes)
      FT_FAIL("{}: shard changed while being read ({} bytes, the manifest says {}); it was truncated or replaced",
              path.string(), error ? int64_t(-1) : bytes, record.bytes);
  }
  read_since_check_.clear();
}

}  // namespace ft::datasets
