#include "framework/checkpoint/shard_file.h"

#include <hdf5.h>

#include <algorithm>
#include <bit>
#include <string_view>
#include <vector>

#include "framework/checkpoint/layout.h"
#include "framework/core/check.h"

namespace ft::checkpoint {

namespace fs = std::filesystem;
using io::H5Id;
using nlohmann::json;

// Slice data goes to disk as raw bytes at the offsets HDF5 assigned, typed as
// little-endian float32 in the file.
static_assert(std::endian::native == std::endian::little, "shards store float32 little-endian");

namespace {

// Pieces between fault-injection checks and the largest single pwrite.
constexpr uint64_t kDataPiece = uint64_t(256) << 20;

// Turns HDF5's error stack into a cause: the POSIX driver records the OS error as
// "... errno = 28, error message = 'No space left on device' ...", which is what a
// user must see; otherwise the innermost description. Installed for one shard
// write, then the previous handler is put back.
class Hdf5ErrorCapture {
 public:
  Hdf5ErrorCapture() {
    H5Eget_auto2(H5E_DEFAULT, &previous_, &previous_data_);
    H5Eset_auto2(H5E_DEFAULT, &Hdf5ErrorCapture::on_error, this);
  }
  ~Hdf5ErrorCapture() { H5Eset_auto2(H5E_DEFAULT, previous_, previous_data_); }
  Hdf5ErrorCapture(const Hdf5ErrorCapture&) = delete;
  Hdf5ErrorCapture& operator=(const Hdf5ErrorCapture&) = delete;

  std::string cause() const {
    if (!os_error_.empty()) return os_error_;
    return innermost_.empty() ? "HDF5 error" : innermost_;
  }

 private:
  static herr_t on_error(hid_t stack, void* self) {
    H5Ewalk2(stack, H5E_WALK_DOWNWARD, &Hdf5ErrorCapture::visit, self);
    return 0;
  }
  static herr_t visit(unsigned, const H5E_error2_t* entry, void* data) {
    auto* self = static_cast<Hdf5ErrorCapture*>(data);
    const std::string_view desc = entry->desc ? entry->desc : "";
    self->innermost_ = std::string(desc);
    const std::string_view key = "error message = '";
    const size_t at = desc.find(key);
    if (self->os_error_.empty() && at != std::string_view::npos) {
      const size_t start = at + key.size();
      self->os_error_ = std::string(desc.substr(start, desc.find('\'', start) - start));
    }
    return 0;
  }

  H5E_auto2_t previous_ = nullptr;
  void* previous_data_ = nullptr;
  std::string os_error_, innermost_;
};

struct PlannedWrite {
  const void* data = nullptr;
  uint64_t offset = 0;
  uint64_t bytes = 0;
};

H5Id checked(hid_t id, H5Id::Closer close, const fs::path& file, std::string_view what,
             const Hdf5ErrorCapture& capture) {
  if (id < 0) FT_FAIL("{}: {} failed: {}", file.string(), what, capture.cause());
  return H5Id(id, close);
}

void write_text_attribute(hid_t object, const char* name, const std::string& text, const fs::path& file,
                          const Hdf5ErrorCapture& capture) {
  H5Id type = checked(H5Tcopy(H5T_C_S1), H5Tclose, file, "string type", capture);
  H5Tset_size(type.get(), std::max<size_t>(text.size(), 1));
  H5Id space = checked(H5Screate(H5S_SCALAR), H5Sclose, file, "attribute space", capture);
  H5Id attribute = checked(H5Acreate2(object, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                           file, std::string("creating attribute ") + name, capture);
  const std::string padded = text.empty() ? std::string(1, '\0') : text;
  if (H5Awrite(attribute.get(), type.get(), padded.data()) < 0)
    FT_FAIL("{}: writing attribute {} failed: {}", file.string(), name, capture.cause());
}

// The file-wide property lists used for every dataset of a shard.
struct CreateProperties {
  H5Id link, dataset;
};

CreateProperties create_properties(const fs::path& file, const Hdf5ErrorCapture& capture) {
  CreateProperties p;
  p.link = checked(H5Pcreate(H5P_LINK_CREATE), H5Pclose, file, "link property", capture);
  H5Pset_create_intermediate_group(p.link.get(), 1);
  p.dataset = checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, file, "dataset property", capture);
  // Contiguous and allocated at creation: the data's file offset is known before
  // the file is closed, so the data can be written with plain pwrite (one
  // sequential stream, and the OS error of a failed write). No fill: every byte
  // gets written.
  H5Pset_layout(p.dataset.get(), H5D_CONTIGUOUS);
  H5Pset_alloc_time(p.dataset.get(), H5D_ALLOC_TIME_EARLY);
  H5Pset_fill_time(p.dataset.get(), H5D_FILL_TIME_NEVER);
  return p;
}

H5Id create_dataset(hid_t file_id, const std::string& name, hid_t type, uint64_t elements,
                    const CreateProperties& p, const fs::path& file, const Hdf5ErrorCapture& capture) {
  const hsize_t dims[1] = {hsize_t(elements)};
  H5Id space = checked(H5Screate_simple(1, dims, nullptr), H5Sclose, file, "dataspace", capture);
  return checked(H5Dcreate2(file_id, name.c_str(), type, space.get(), p.link.get(), p.dataset.get(), H5P_DEFAULT),
                 H5Dclose, file, "creating dataset " + name, capture);
}

std::vector<PlannedWrite> create_slice_datasets(hid_t file_id, const SaveRequest& request, const CreateProperties& p,
                                                const fs::path& file, const Hdf5ErrorCapture& capture,
                                                WrittenShard& shard) {
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
    H5Id dataset = create_dataset(file_id, name, H5T_IEEE_F32LE, uint64_t(slice.count), p, file, capture);
    write_text_attribute(dataset.get(), "slice", meta.dump(), file, capture);
    const haddr_t offset = H5Dget_offset(dataset.get());
    if (offset == HADDR_UNDEF) FT_FAIL("{}: dataset {} has no file offset: {}", file.string(), name, capture.cause());
    writes.push_back({slice.data, uint64_t(offset), uint64_t(slice.count) * sizeof(float)});
    meta["dataset"] = name;
    shard.ranges.push_back(meta);
  }
  return writes;
}

void write_small_tensors(hid_t file_id, const SaveRequest& request, const CreateProperties& p, const fs::path& file,
                         const Hdf5ErrorCapture& capture, WrittenShard& shard) {
  size_t index = 0;
  for (const auto& [name, tensor] : request.small_tensors) {
    const Tensor host = (tensor.device() == Device::cpu() ? tensor : tensor.to(Device::cpu())).contiguous();
    const std::string dataset_name = fmt::format("small/{}", index++);
    H5Id dataset = create_dataset(file_id, dataset_name, H5T_NATIVE_UINT8, host.nbytes(), p, file, capture);
    if (host.nbytes() > 0 &&
        H5Dwrite(dataset.get(), H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, host.raw_data()) < 0)
      FT_FAIL("{}: writing {} failed: {}", file.string(), dataset_name, capture.cause());
    json meta = {{"name", name}, {"dtype", dtype_name(host.dtype())}, {"shape", host.shape()}};
    write_text_attribute(dataset.get(), "tensor", meta.dump(), file, capture);
    meta.erase("name");
    meta["dataset"] = dataset_name;
    shard.small_tensors[name] = meta;
  }
}

// Everything but the slices' data, through HDF5; returns where that data goes.
std::vector<PlannedWrite> write_structure(const fs::path& file, const SaveRequest& request, int rank, int world_size,
                                          bool with_small_tensors, WrittenShard& shard) {
  Hdf5ErrorCapture capture;
  H5Id access = checked(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, file, "file-access property", capture);
  H5Pset_file_locking(access.get(), false, true);  // locks hang on NFS/Lustre; only this rank writes the file
  H5Id h5 = checked(H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get()), H5Fclose, file, "create",
                    capture);
  json header = {{"format", kFormat}, {"version", kFormatVersion}, {"step", request.step}, {"rank", rank},
                 {"world_size", world_size}};
  write_text_attribute(h5.get(), "flowtrain_shard", header.dump(), file, capture);
  write_text_attribute(h5.get(), "rank_state", request.rank_state.dump(), file, capture);
  std::vector<PlannedWrite> writes;
  {
    CreateProperties properties = create_properties(file, capture);
    writes = create_slice_datasets(h5.get(), request, properties, file, capture, shard);
    if (with_small_tensors) write_small_tensors(h5.get(), request, properties, file, capture, shard);
  }
  if (H5Fclose(h5.release()) < 0) FT_FAIL("{}: writing HDF5 metadata failed: {}", file.string(), capture.cause());
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
