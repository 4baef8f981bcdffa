#include "framework/checkpoint/shard_file.h"

#include <algorithm>
#include <bit>
#include <vector>

#include "framework/checkpoint/layout.h"
#include "framework/core/check.h"

namespace ft::checkpoint {

namespace fs = std::filesystem;
using nlohmann::json;

// Slice data goes to disk as raw bytes at the offsets HDF5 assigned, typed as
// little-endian float32 in the file.
static_assert(std::endian::native == std::endian::little, "shards store float32 little-endian");

namespace {

// Pieces between fault-injection checks and the largest single pwrite.
constexpr uint64_t kDataPiece = uint64_t(256) << 20;

struct PlannedWrite {
  const void* data = nullptr;
  uint64_t offset = 0;
  uint64_t bytes = 0;
};

std::vector<PlannedWrite> create_slice_datasets(io::H5File& h5, const SaveRequest& request, WrittenShard& shard) {
  std::vector<PlannedWrite> writes;
  for (size_t i = 0; i < request.slices.size(); ++i) {
    const Slice& slice = request.slices[i];
    json meta = {{"name", slice.name}, {"length", slice.length}, {"begin", slice.begin}, {"count", slice.count}};
    if (slice.count == 0) {  // no data, but the manifest still learns the vector's length
      meta["dataset"] = "";
      shard.ranges.push_back(meta);
      continue;
    }
    const std::string name = fmt::format("slices/{}", i);
    io::H5Dataset dataset = h5.create_contiguous_dataset(name, io::H5Type::f32, uint64_t(slice.count));
    dataset.write_attribute("slice", meta.dump());
    writes.push_back({slice.data, dataset.file_offset(), uint64_t(slice.count) * sizeof(float)});
    meta["dataset"] = name;
    shard.ranges.push_back(meta);
  }
  return writes;
}

void write_small_tensors(io::H5File& h5, const SaveRequest& request, WrittenShard& shard) {
  size_t index = 0;
  for (const auto& [name, tensor] : request.small_tensors) {
    const Tensor host = (tensor.device() == Device::cpu() ? tensor : tensor.to(Device::cpu())).contiguous();
    const std::string dataset_name = fmt::format("small/{}", index++);
    io::H5Dataset dataset = h5.create_contiguous_dataset(dataset_name, io::H5Type::u8, host.nbytes());
    if (host.nbytes() > 0) dataset.write_all(io::H5Type::u8, host.raw_data());
    json meta = {{"name", name}, {"dtype", dtype_name(host.dtype())}, {"shape", host.shape()}};
    dataset.write_attribute("tensor", meta.dump());
    meta.erase("name");
    meta["dataset"] = dataset_name;
    shard.small_tensors[name] = meta;
  }
}

// Everything but the slices' data, through HDF5; returns where that data goes.
std::vector<PlannedWrite> write_structure(const fs::path& file, const SaveRequest& request, int rank, int world_size,
                                          bool with_small_tensors, WrittenShard& shard) {
  io::H5File h5 = io::H5File::create(file.string());
  json header = {{"format", kFormat}, {"version", kFormatVersion}, {"step", request.step}, {"rank", rank},
                 {"world_size", world_size}};
  h5.write_attribute("flowtrain_shard", header.dump());
  h5.write_attribute("rank_state", request.rank_state.dump());
  std::vector<PlannedWrite> writes = create_slice_datasets(h5, request, shard);
  if (with_small_tensors) write_small_tensors(h5, request, shard);
  h5.close();  // writes the HDF5 metadata: a full disk shows here
  return writes;
}

void write_data(const fs::path& file, const std::vector<PlannedWrite>& writes, const Failpoint& failpoint) {
  uint64_t end = fs::file_size(file), total = 0;
  for (const PlannedWrite& w : writes) {
    end = std::max(end, w.offset + w.bytes);
    total += w.bytes;
  }
  io::WritableFile out = io::WritableFile::open_existing(file);
  out.reserve(end);
  uint64_t written = 0;
  bool halfway = false;
  for (const PlannedWrite& w : writes) {
    for (uint64_t done = 0; done < w.bytes;) {
      const uint64_t piece = std::min(kDataPiece, w.bytes - done);
      out.write_at(w.offset + done, static_cast<const char*>(w.data) + done, piece);
      done += piece;
      written += piece;
      if (!halfway && 2 * written >= total) {
        halfway = true;
        failpoint.hit("mid_shard");
      }
    }
  }
  if (!halfway) failpoint.hit("mid_shard");  // a shard without data
  failpoint.hit("after_shard_write");
  out.sync();
  out.close();
}

}  // namespace

WrittenShard write_shard(const fs::path& folder, const SaveRequest& request, int rank, int world_size,
                         bool with_small_tensors, const Failpoint& failpoint) {
  failpoint.hit("before_shard");
  WrittenShard shard;
  shard.file = shard_file_name(rank, world_size);
  const fs::path temp = folder / fmt::format(".{}.tmp", shard.file);
  const std::vector<PlannedWrite> writes =
      write_structure(temp, request, rank, world_size, with_small_tensors, shard);
  write_data(temp, writes, failpoint);
  io::rename_path(temp, folder / shard.file);
  io::sync_directory(folder);
  failpoint.hit("after_shard_rename");
  shard.digest = io::digest_file(folder / shard.file);
  return shard;
}

io::H5File& ShardFiles::open(const std::string& file) {
  auto it = files_.find(file);
  if (it == files_.end()) it = files_.emplace(file, io::H5File::open_read((dir_ / file).string())).first;
  return it->second;
}

void ShardFiles::read_floats(const std::string& file, const std::string& dataset, int64_t first, int64_t count,
                             float* out) {
  io::H5Dataset data = open(file).open_dataset(dataset, 0);
  data.read_rows(first, count, io::H5Type::f32, out);
}

void ShardFiles::read_bytes(const std::string& file, const std::string& dataset, void* out, size_t bytes) {
  io::H5Dataset data = open(file).open_dataset(dataset, 0);
  const std::vector<int64_t> dims = data.dims();
  FT_CHECK(dims.size() == 1 && uint64_t(dims[0]) == bytes, "{}: holds {} bytes, the manifest says {}", data.where(),
           dims.empty() ? 0 : dims[0], bytes);
  if (bytes > 0) data.read_all(io::H5Type::u8, out);
}

}  // namespace ft::checkpoint
