#include "datasets/shard_writer.h"

#include "datasets/shard_format.h"
#include "framework/core/check.h"
#include "framework/io/durable_file.h"

namespace ft::datasets {

ShardWriter::ShardWriter(const std::filesystem::path& dir, int64_t shard_index, int64_t num_shards, SetKind kind)
    : final_path_(dir / shard_file_name(shard_index, num_shards)),
      temporary_path_(dir / fmt::format(".{}.tmp", shard_file_name(shard_index, num_shards))),
      shard_index_(shard_index),
      num_shards_(num_shards),
      kind_(kind) {
  file_ = io::H5File::create(temporary_path_.string());
}

ShardWriter::ShardWriter(const std::filesystem::path& dir, int64_t shard_index, int64_t num_shards, ImageShape shape)
    : ShardWriter(dir, shard_index, num_shards, SetKind::images) {
  int64_t chunk = images_per_chunk(shape.bytes());
  samples_ = file_.create_dataset(kImagesDataset, io::H5Type::u8, {0, shape.height, shape.width, shape.channels},
                                  {chunk, shape.height, shape.width, shape.channels}, true);
  labels_ = file_.create_dataset(kLabelsDataset, io::H5Type::i32, {0}, {4096}, true);
}

ShardWriter::ShardWriter(const std::filesystem::path& dir, int64_t shard_index, int64_t num_shards, VectorShape shape)
    : ShardWriter(dir, shard_index, num_shards, SetKind::vectors) {
  FT_CHECK(shape.features > 0, "vector shard with {} features", shape.features);
  features_ = shape.features;
  samples_ = file_.create_dataset(kFeaturesDataset, io::H5Type::f32, {0, shape.features},
                                  {vectors_per_chunk(shape.bytes()), shape.features}, true);
  labels_ = file_.create_dataset(kLabelsDataset, io::H5Type::i32, {0}, {4096}, true);
}

ShardWriter::~ShardWriter() {
  if (finished_) return;
  samples_ = io::H5Dataset();
  labels_ = io::H5Dataset();
  file_ = io::H5File();
  std::error_code ignored;
  std::filesystem::remove(temporary_path_, ignored);
}

void ShardWriter::append_rows(io::H5Type type, const void* samples, const int32_t* labels, int64_t count) {
  samples_.write_rows(count_, count, type, samples);
  labels_.write_rows(count_, count, io::H5Type::i32, labels);
  count_ += count;
}

void ShardWriter::append(const uint8_t* images, const int32_t* labels, int64_t count) {
  FT_CHECK(kind_ == SetKind::images, "{}: images appended to a vector shard", temporary_path_.string());
  append_rows(io::H5Type::u8, images, labels, count);
}

void ShardWriter::append(const float* features, const int32_t* labels, int64_t count) {
  FT_CHECK(kind_ == SetKind::vectors, "{}: vectors appended to an image shard", temporary_path_.string());
  append_rows(io::H5Type::f32, features, labels, count);
}

ShardRecord ShardWriter::finish() {
  file_.write_attribute("format", std::string(kShardFormat));
  if (kind_ == SetKind::vectors) {
    file_.write_attribute("version", kVectorShardVersion);
    file_.write_attribute("kind", std::string(set_kind_name(kind_)));
    file_.write_attribute("layout", std::string("ND"));
    file_.write_attribute("features", features_);
  } else {
    file_.write_attribute("version", kShardVersion);
    file_.write_attribute("layout", std::string("NHWC"));
  }
  file_.write_attribute("shard_index", shard_index_);
  file_.write_attribute("num_shards", num_shards_);
  file_.write_attribute("count", count_);
  samples_ = io::H5Dataset();
  labels_ = io::H5Dataset();
  file_.close();
  const io::FileDigest digest = io::digest_file(temporary_path_);
  ShardRecord record{final_path_.filename().string(), count_, int64_t(digest.bytes), digest.checksum};
  io::rename_durably(temporary_path_, final_path_);
  finished_ = true;
  return record;
}

}  // namespace ft::datasets
