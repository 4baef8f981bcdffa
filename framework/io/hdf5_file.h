// RAII wrappers over the HDF5 C API: files, groups, datasets, attributes. Generic:
// they know nothing about what the arrays mean (image shards, checkpoint shards and
// the tests' golden files use them). The only place in the tree that calls HDF5:
// every call is checked, and a failure throws ft::Error naming the file, the object
// and HDF5's cause (the OS error when there is one, e.g. "No space left on device")
// instead of printing the HDF5 error stack.
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

// What the last failed HDF5 call of this thread said: the OS error when the file
// driver recorded one, otherwise the innermost description of the error stack.
std::string hdf5_error_cause();

// Anything attributes hang on: a group (a file's root included) or a dataset.
// Attributes are scalars (int64, fixed-length string) or 1-D int64 arrays.
class H5Object {
 public:
  const std::string& where() const { return where_; }  // "file.h5:/name", for messages

  void write_attribute(const std::string& name, int64_t value);
  void write_attribute(const std::string& name, const std::string& value);
  bool has_attribute(const std::string& name) const;
  int64_t read_int_attribute(const std::string& name) const;  // exactly one integer
  std::vector<int64_t> read_ints_attribute(const std::string& name) const;  // scalar or 1-D
  double read_double_attribute(const std::string& name) const;  // exactly one number
  std::string read_string_attribute(const std::string& name) const;  // fixed or variable length

 protected:
  H5Object() = default;
  H5Object(H5Id id, std::string where) : id_(std::move(id)), where_(std::move(where)) {}
  H5Id open_attribute(const std::string& name) const;

  H5Id id_;
  std::string where_;
};

class H5Dataset : public H5Object {
 public:
  H5Dataset() = default;
  H5Dataset(H5Id id, std::string where);

  std::vector<int64_t> dims() const;  // empty for a scalar dataset
  H5Type stored_type() const;  // throws when the stored type is none of H5Type
  bool stores_integers() const;  // any integer width and sign
  // Byte offset of the data in the file: defined for contiguous datasets whose
  // storage was allocated at creation (create_contiguous_dataset).
  uint64_t file_offset() const;

  // Rows [first, first + count) along dimension 0, into (from) a contiguous buffer of
  // `type` elements. Reads reuse one file dataspace: call from one thread per object.
  void read_rows(int64_t first, int64_t count, H5Type type, void* out);
  void read_all(H5Type type, void* out);
  // Writes rows, growing dimension 0 first when the dataset was created extendable.
  void write_rows(int64_t first, int64_t count, H5Type type, const void* data);
  void write_all(H5Type type, const void* data);

 private:
  void select_rows(int64_t first, int64_t count, std::vector<hsize_t>& row_dims);

  H5Id file_space_;
};

// A group: datasets and groups by name ("a/b" paths work), attributes.
class H5Group : public H5Object {
 public:
  H5Group() = default;
  // Takes an open group id; `file` is the file's path, for messages.
  H5Group(H5Id id, std::string where, std::string file)
      : H5Object(std::move(id), std::move(where)), file_(std::move(file)) {}

  bool has(const std::string& name) const;  // a dataset or group of that name
  // Names of the links directly in this group, in name order.
  std::vector<std::string> link_names() const;
  H5Group open_group(const std::string& name) const;
  // chunk_cache_bytes: 0 reads the selected elements straight from the file, which is
  // what random single-row access wants; sequential block reads want more than a chunk.
  H5Dataset open_dataset(const std::string& name, size_t chunk_cache_bytes = 1 << 20) const;
  // Chunked dataset; with extendable_rows dimension 0 starts at dims[0] and can grow.
  H5Dataset create_dataset(const std::string& name, H5Type type, const std::vector<int64_t>& dims,
                           const std::vector<int64_t>& chunk_dims, bool extendable_rows = false);
  // A 1-D dataset of `elements`, stored little-endian, contiguous and allocated at
  // creation without a fill: its file_offset() is known at once, so the data can be
  // written with plain pwrite after the file is closed. Missing groups on the way
  // are created.
  H5Dataset create_contiguous_dataset(const std::string& name, H5Type type, uint64_t elements);

 protected:
  std::string child_where(const std::string& name) const;
  std::string file_;  // the file's path, for messages
};

class H5File : public H5Group {
 public:
  H5File() = default;
  // Opens without file locking: read-only data needs no lock, each file written
  // here has one writer, and locking fails or hangs on NFS and Lustre.
  static H5File open_read(const std::string& path);
  // Creates (truncates) a file for writing.
  static H5File create(const std::string& path);

  const std::string& path() const { return file_; }
  // The root group as a group of its own: it keeps the file open after this
  // H5File goes away.
  H5Group root() const;

  // Flushes and closes; errors surface here rather than in a destructor.
  void close();

 private:
  H5File(H5Id id, const std::string& path) : H5Group(std::move(id), path, path) {}
};

}  // namespace ft::io
