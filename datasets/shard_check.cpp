#include "datasets/shard_check.h"

#include "datasets/shard_format.h"
#include "framework/core/check.h"
#include "framework/core/shape.h"
#include "framework/io/durable_file.h"
#include "framework/io/hdf5_file.h"

namespace ft::datasets {

namespace {

void check_shard_size(const std::filesystem::path& path, const ShardRecord& record) {
  if (!std::filesystem::exists(path)) FT_FAIL("{}: missing shard (listed in {})", path.string(), kManifestFile);
  auto bytes = int64_t(std::filesystem::file_size(path));
  if (bytes != record.bytes)
    FT_FAIL("{}: {} bytes, but the manifest records {} (truncated or replaced file)", path.string(), bytes,
            record.bytes);
}

// The format attributes: version 1 is an image shard, version 2 names its kind.
void check_shard_header(const io::H5File& file, const Manifest& manifest, const std::string& name) {
  if (!file.has_attribute("format") || file.read_string_attribute("format") != kShardFormat)
    FT_FAIL("{}: not a {} file", name, kShardFormat);
  int64_t version = file.read_int_attribute("version");
  if (version != kShardVersion && version != kVectorShardVersion)
    FT_FAIL("{}: shard version {} is not {} or {}", name, version, kShardVersion, kVectorShardVersion);
  std::string kind = version == kShardVersion ? "images" : file.read_string_attribute("kind");
  if (kind != set_kind_name(manifest.kind))
    FT_FAIL("{}: the shard holds {}, the manifest says {}", name, kind, set_kind_name(manifest.kind));
}

}  // namespace

void verify_shard_checksum(const std::filesystem::path& dir, const Manifest& manifest, size_t shard) {
  const ShardRecord& record = manifest.shards.at(shard);
  std::filesystem::path path = dir / record.file;
  check_shard_size(path, record);
  std::string checksum = io::digest_file(path).checksum;
  if (checksum != record.checksum)
    FT_FAIL("{}: checksum mismatch ({} {}, manifest {})", path.string(), io::kChecksumAlgorithm, checksum,
            record.checksum);
}

std::vector<int32_t> check_shard(const std::filesystem::path& dir, const Manifest& manifest, size_t shard,
                                 bool verify_checksum) {
  const ShardRecord& record = manifest.shards.at(shard);
  std::filesystem::path path = dir / record.file;
  std::string name = path.string();
  if (verify_checksum)
    verify_shard_checksum(dir, manifest, shard);
  else
    check_shard_size(path, record);
  io::H5File file = io::H5File::open_read(name);
  check_shard_header(file, manifest, name);
  io::H5Dataset samples = file.open_dataset(manifest.is_vectors() ? kFeaturesDataset : kImagesDataset);
  Shape expected{record.count};
  for (int64_t dim : manifest.sample_dims()) expected.push_back(dim);
  if (samples.dims() != expected)
    FT_FAIL("{}: {} have shape {}, the manifest says {} (shards with different {} shapes?)", name,
            manifest.is_vectors() ? kFeaturesDataset : kImagesDataset, shape_str(samples.dims()), shape_str(expected),
            manifest.is_vectors() ? "vector" : "image");
  if (manifest.is_vectors() && samples.stored_type() != io::H5Type::f32) FT_FAIL("{}: features are not float32", name);
  if (!manifest.is_vectors() && samples.stored_type() != io::H5Type::u8) FT_FAIL("{}: images are not uint8", name);
  io::H5Dataset labels = file.open_dataset(kLabelsDataset);
  if (labels.dims() != Shape{record.count}) FT_FAIL("{}: labels have shape {}, expected [{}]", name, shape_str(labels.dims()), record.count);
  std::vector<int32_t> values(static_cast<size_t>(record.count));
  labels.read_all(io::H5Type::i32, values.data());
  return values;
}

}  // namespace ft::datasets
