// RAII wrappers over the HDF5 C API: files, datasets, attributes. Generic: they
// know nothing about what the arrays mean (image shards and checkpoints use them).
// Every failure throws ft::Error naming the file and the object, instead of
// printing the HDF5 error stack.
#pragma once
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ft::io {

// An owned HDF5 identifier, closed with the function matching its kind.
class H5Id {
 public:
  using Closer = herr_t (*)(hid_t);
  H5Id() = default;
  H5Id(hid_t id, Closer close) : id_(id), close_(close) {}
  H5Id(H5Id&& other) noexcept;
  H5Id& operator=(H5Id&& other) noexcept;
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  ~H5Id() { reset(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();
  hid_t release() {  // gives up ownership without closing
    hid_t id = id_;
    id_ = -1;
    return id;
  }

 private:
  hid_t id_ = -1;
  Closer close_ = nullptr;
};

// Element types stored and read through these wrappers (native byte order in memory).
enum class H5Type { u8, i32, i64, f32, f64 };
const char* h5_type_name(H5Type type);

class H5Dataset {
 public:
  H5Dataset() = default;
  H5Dataset(H5Id id, std::string where);

  const std::string& where() const { return where_; }  // "file.h5:/name", for messages
  std::vector<int64_t> dims() const;
  H5Type stored_type() const;  // throws when the stored type is none of H5Type

  // Rows [first, first + count) along dimension 0, into (from) a contiguous buffer of
  // `type` elements. Reads reuse one file dataspace: call from one thread per object.
  void read_rows(int64_t first, int64_t count, H5Type type, void* out);
  void read_all(H5Type type, void* out);
  // Writes rows, growing dimension 0 first when the dataset was created extendable.
  void write_rows(int64_t first, int64_t count, H5Type type, const void* data);

 private:
  void select_rows(int64_t first, int64_t count, std::vector<hsize_t>& row_dims);

  H5Id id_;
  H5Id file_space_;
  std::string where_;
};

class H5File {
 public:
  H5File() = default;
  // Read-only open. File locking is off: read-only data needs no lock, and locking
  // fails or hangs on NFS and Lustre.
  static H5File open_read(const std::string& path);
  // Creates (truncates) a file for writing.
  static H5File create(const std::string& path);

  const std::string& path() const { return path_; }
  bool has_dataset(const std::string& name) const;
  // chunk_cache_bytes: 0 reads the selected elements straight from the file, which is
  // what random single-row access wants; sequential block reads want more than a chunk.
  H5Dataset open_dataset(const std::string& name, size_t chunk_cache_bytes = 1 << 20) const;
  // Chunked dataset; with extendable_rows dimension 0 starts at dims[0] and can grow.
  H5Dataset create_dataset(const std::string& name, H5Type type, const std::vector<int64_t>& dims,
                           const std::vector<int64_t>& chunk_dims, bool extendable_rows = false);

  // Attributes on the root group.
  void write_attribute(const std::string& name, int64_t value);
  void write_attribute(const std::string& name, const std::string& value);
  bool has_attribute(const std::string& name) const;
  int64_t read_int_attribute(const std::string& name) const;
  std::string read_string_attribute(const std::string& name) const;

  // Flushes and closes; errors surface here rather than in a destructor.
  void close();

 private:
  H5File(H5Id id, std::string path) : id_(std::move(id)), path_(std::move(path)) {}
  H5Id id_;
  std::string path_;
};

}  // namespace ft::io
