#include "datasets/shard_handles.h"

#include <algorithm>

#include "datasets/shard_format.h"

namespace ft::datasets {

ShardHandles::ShardHandles(std::filesystem::path dir, const Manifest& manifest, size_t max_open)
    : dir_(std::move(dir)), manifest_(manifest), max_open_(std::max<size_t>(1, max_open)), shards_(manifest.shards.size()) {}

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
    slot->images = slot->file.open_dataset(kImagesDataset, 0);
    ++open_count_;
  }
  slot->last_use = ++clock_;
  return *slot;
}

void ShardHandles::read_image(size_t shard, int64_t index, uint8_t* out) {
  open(shard).images.read_rows(index, 1, io::H5Type::u8, out);
}

}  // namespace ft::datasets
