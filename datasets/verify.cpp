#include "datasets/verify.h"

#include <fmt/format.h>

#include "datasets/shard_check.h"

namespace ft::datasets {

Manifest verify_dataset(const std::filesystem::path& dir,
                        const std::function<void(int64_t done, int64_t total)>& on_shard) {
  Manifest manifest = read_manifest(dir);
  int64_t checked = 0;
  for (size_t shard = 0; shard < manifest.shards.size(); ++shard) {
    check_shard(dir, manifest, shard, true);
    checked += manifest.shards[shard].count;
    if (on_shard) on_shard(checked, manifest.count);
  }
  return manifest;
}

std::string describe_dataset(const std::filesystem::path& dir, const Manifest& manifest) {
  std::string text = fmt::format("dataset:  {}\nformat:   {} v{}\nkind:     {}\n", dir.string(), kManifestFormat,
                                 manifest.is_vectors() ? kVectorManifestVersion : kManifestVersion,
                                 set_kind_name(manifest.kind));
  if (manifest.is_vectors())
    text += fmt::format("vectors:  {} (D = {} float32, ND)\n", manifest.count, manifest.features);
  else
    text += fmt::format("images:   {} ({}x{}x{} uint8, NHWC)\n", manifest.count, manifest.height, manifest.width,
                        manifest.channels);
  int64_t bytes = 0;
  for (const ShardRecord& shard : manifest.shards) bytes += shard.bytes;
  text += fmt::format("shards:   {} ({:.1f} MiB)\n", manifest.shards.size(), double(bytes) / (1 << 20));
  text += fmt::format("classes:  {}", manifest.num_classes);
  if (!manifest.class_names.empty()) {
    text += " (";
    for (size_t i = 0; i < manifest.class_names.size() && i < 10; ++i) text += (i ? ", " : "") + manifest.class_names[i];
    text += manifest.class_names.size() > 10 ? ", ...)" : ")";
  }
  if (!manifest.is_vectors())
    text += fmt::format("\nskipped:  {} source images did not decode", manifest.skipped_images);
  text += fmt::format("\nsource:   {}\n", manifest.source.dump());
  return text;
}

}  // namespace ft::datasets
