#include "datasets/image_lookup.h"

#include <map>

#include "datasets/manifest.h"
#include "datasets/shard_check.h"
#include "datasets/shard_handles.h"
#include "framework/core/check.h"

namespace ft::datasets {

ImagesAt read_images_at(const std::filesystem::path& dir, const std::vector<int64_t>& indices) {
  const Manifest manifest = read_manifest(dir);
  if (manifest.is_vectors())
    FT_FAIL("{}: a vector set ({} features), not images; pick images from an image set", dir.string(), manifest.features);
  ImagesAt out;
  out.shape = {manifest.height, manifest.width, manifest.channels};
  const auto n = int64_t(indices.size());
  out.pixels = Tensor::empty({n, out.shape.height, out.shape.width, out.shape.channels}, DType::u8);
  out.labels = Tensor::empty({n}, DType::i64);
  ShardHandles handles(dir, manifest);
  std::map<size_t, std::vector<int32_t>> labels_of_shard;  // only the shards asked for are checked
  for (int64_t i = 0; i < n; ++i) {
    const int64_t index = indices[size_t(i)];
    if (index < 0 || index >= manifest.count)
      FT_FAIL("{}: image {} is outside the set of {} images", dir.string(), index, manifest.count);
    int64_t offset = index;
    size_t shard = 0;
    while (offset >= manifest.shards[shard].count) offset -= manifest.shards[shard++].count;
    auto labels = labels_of_shard.find(shard);
    if (labels == labels_of_shard.end())
      labels = labels_of_shard.emplace(shard, check_shard(dir, manifest, shard, false)).first;
    handles.read_sample(shard, offset, out.pixels.data<uint8_t>() + i * out.shape.bytes());
    out.labels.data<int64_t>()[i] = labels->second[size_t(offset)];
  }
  handles.check_read_shards_intact();
  return out;
}

}  // namespace ft::datasets
