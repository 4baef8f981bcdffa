// Just enough of zip and .npy to stream arrays out of numpy's .npz files (stored
// or deflated entries, zip64 sizes and offsets) and out of plain .npy files:
// .npy format versions 1-3, C order only.
#pragma once
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace ft::datasets {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;  // 0 stored, 8 deflated
  uint64_t compressed_size = 0, size = 0, local_header_offset = 0;
};

std::vector<ZipEntry> list_zip_entries(const std::filesystem::path& path);

// The bytes of one zip entry, front to back.
class ZipEntryStream {
 public:
  ZipEntryStream(const std::filesystem::path& path, const ZipEntry& entry);
  ZipEntryStream(const ZipEntryStream&) = delete;
  ZipEntryStream& operator=(const ZipEntryStream&) = delete;
  ~ZipEntryStream();
  void read_exact(void* out, size_t bytes);
  std::string where() const { return path_ + ":" + name_; }

 private:
  size_t read_raw(uint8_t* out, size_t bytes);

  std::string path_, name_;
  std::unique_ptr<FILE, int (*)(FILE*)> file_{nullptr, std::fclose};
  uint16_t method_;
  uint64_t compressed_left_;
  z_stream inflater_{};
  bool inflating_ = false;
  std::vector<uint8_t> input_;
};

// An .npy array, inside an .npz or a file of its own: its header, then its data
// through read_exact. A Fortran-ordered array is an error naming it and its dtype.
class NpyStream {
 public:
  NpyStream(const std::filesystem::path& npz, const std::string& array_name);
  explicit NpyStream(const std::filesystem::path& npy);
  const std::string& descr() const { return descr_; }  // numpy dtype string, e.g. "|u1", "<i8"
  const std::vector<int64_t>& shape() const { return shape_; }
  void read_exact(void* out, size_t bytes);
  std::string where() const { return entry_ ? entry_->where() : path_; }

 private:
  void read_header();

  std::unique_ptr<ZipEntryStream> entry_;               // inside an .npz
  std::unique_ptr<FILE, int (*)(FILE*)> file_{nullptr, std::fclose};  // a plain .npy
  std::string path_;
  std::string descr_;
  std::vector<int64_t> shape_;
};

}  // namespace ft::datasets
