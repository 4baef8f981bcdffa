#include "framework/io/hdf5_file.h"

#include "framework/core/check.h"

namespace ft::io {

namespace {

// HDF5 prints its error stack to stderr by default; the stack is per thread in a
// thread-safe build, so each thread turns printing off before its first call.
void quiet_hdf5_errors() {
  thread_local bool quiet = false;
  if (!quiet) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    quiet = true;
  }
}

hid_t native_type(H5Type type) {
  switch (type) {
    case H5Type::u8: return H5T_NATIVE_UINT8;
    case H5Type::i32: return H5T_NATIVE_INT32;
    case H5Type::i64: return H5T_NATIVE_INT64;
    case H5Type::f32: return H5T_NATIVE_FLOAT;
    case H5Type::f64: return H5T_NATIVE_DOUBLE;
  }
  FT_FAIL("unknown HDF5 element type {}", int(type));
}

std::vector<hsize_t> to_hsize(const std::vector<int64_t>& dims) {
  return std::vector<hsize_t>(dims.begin(), dims.end());
}

H5Id make_id(hid_t id, H5Id::Closer close, const std::string& what) {
  if (id < 0) FT_FAIL("{}", what);
  return H5Id(id, close);
}

}  // namespace

H5Id::H5Id(H5Id&& other) noexcept : id_(other.id_), close_(other.close_) { other.id_ = -1; }

H5Id& H5Id::operator=(H5Id&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    close_ = other.close_;
    other.id_ = -1;
  }
  return *this;
}

void H5Id::reset() {
  if (id_ >= 0 && close_) close_(id_);
  id_ = -1;
}

const char* h5_type_name(H5Type type) {
  switch (type) {
    case H5Type::u8: return "uint8";
    case H5Type::i32: return "int32";
    case H5Type::i64: return "int64";
    case H5Type::f32: return "float32";
    case H5Type::f64: return "float64";
  }
  return "unknown";
}

// ---- H5Dataset -------------------------------------------------------------------

H5Dataset::H5Dataset(H5Id id, std::string where) : id_(std::move(id)), where_(std::move(where)) {
  file_space_ = make_id(H5Dget_space(id_.get()), H5Sclose, where_ + ": cannot read the dataspace");
}

std::vector<int64_t> H5Dataset::dims() const {
  int rank = H5Sget_simple_extent_ndims(file_space_.get());
  FT_CHECK(rank >= 0, "{}: cannot read the rank", where_);
  std::vector<hsize_t> dims(size_t(rank), 0);
  H5Sget_simple_extent_dims(file_space_.get(), dims.data(), nullptr);
  return std::vector<int64_t>(dims.begin(), dims.end());
}

H5Type H5Dataset::stored_type() const {
  H5Id type = make_id(H5Dget_type(id_.get()), H5Tclose, where_ + ": cannot read the element type");
  H5T_class_t kind = H5Tget_class(type.get());
  size_t size = H5Tget_size(type.get());
  if (kind == H5T_INTEGER) {
    bool is_signed = H5Tget_sign(type.get()) == H5T_SGN_2;
    if (size == 1 && !is_signed) return H5Type::u8;
    if (size == 4 && is_signed) return H5Type::i32;
    if (size == 8 && is_signed) return H5Type::i64;
  } else if (kind == H5T_FLOAT) {
    if (size == 4) return H5Type::f32;
    if (size == 8) return H5Type::f64;
  }
  FT_FAIL("{}: unsupported element type (class {}, {} bytes)", where_, int(kind), size);
}

void H5Dataset::select_rows(int64_t first, int64_t count, std::vector<hsize_t>& row_dims) {
  std::vector<int64_t> full = dims();
  FT_CHECK(!full.empty(), "{}: a scalar dataset has no rows", where_);
  FT_CHECK(first >= 0 && count >= 0 && first + count <= full[0],
           "{}: rows [{}, {}) outside the {} rows stored", where_, first, first + count, full[0]);
  row_dims = to_hsize(full);
  row_dims[0] = hsize_t(count);
  std::vector<hsize_t> start(full.size(), 0);
  start[0] = hsize_t(first);
  herr_t status = H5Sselect_hyperslab(file_space_.get(), H5S_SELECT_SET, start.data(), nullptr,
                                      row_dims.data(), nullptr);
  FT_CHECK(status >= 0, "{}: cannot select rows [{}, {})", where_, first, first + count);
}

void H5Dataset::read_rows(int64_t first, int64_t count, H5Type type, void* out) {
  if (count == 0) return;
  std::vector<hsize_t> row_dims;
  select_rows(first, count, row_dims);
  H5Id memory = make_id(H5Screate_simple(int(row_dims.size()), row_dims.data(), nullptr), H5Sclose,
                        where_ + ": cannot create a memory dataspace");
  if (H5Dread(id_.get(), native_type(type), memory.get(), file_space_.get(), H5P_DEFAULT, out) < 0)
    FT_FAIL("{}: reading rows [{}, {}) failed (truncated or corrupt file?)", where_, first, first + count);
}

void H5Dataset::read_all(H5Type type, void* out) {
  if (H5Dread(id_.get(), native_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
    FT_FAIL("{}: reading the dataset failed (truncated or corrupt file?)", where_);
}

void H5Dataset::write_rows(int64_t first, int64_t count, H5Type type, const void* data) {
  if (count == 0) return;
  std::vector<int64_t> full = dims();
  if (first + count > full[0]) {
    std::vector<hsize_t> grown = to_hsize(full);
    grown[0] = hsize_t(first + count);
    if (H5Dset_extent(id_.get(), grown.data()) < 0)
      FT_FAIL("{}: cannot grow to {} rows (not created extendable?)", where_, first + count);
    file_space_ = make_id(H5Dget_space(id_.get()), H5Sclose, where_ + ": cannot read the dataspace");
  }
  std::vector<hsize_t> row_dims;
  select_rows(first, count, row_dims);
  H5Id memory = make_id(H5Screate_simple(int(row_dims.size()), row_dims.data(), nullptr), H5Sclose,
                        where_ + ": cannot create a memory dataspace");
  if (H5Dwrite(id_.get(), native_type(type), memory.get(), file_space_.get(), H5P_DEFAULT, data) < 0)
    FT_FAIL("{}: writing rows [{}, {}) failed", where_, first, first + count);
}

// ---- H5File ----------------------------------------------------------------------

H5File H5File::open_read(const std::string& path) {
  quiet_hdf5_errors();
  H5Id access = make_id(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "cannot create a file-access property");
  FT_CHECK(H5Pset_file_locking(access.get(), false, true) >= 0, "{}: cannot turn file locking off", path);
  hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, access.get());
  if (id < 0) FT_FAIL("{}: not a readable HDF5 file (missing, truncated or corrupt)", path);
  return H5File(H5Id(id, H5Fclose), path);
}

H5File H5File::create(const std::string& path) {
  quiet_hdf5_errors();
  hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (id < 0) FT_FAIL("{}: cannot create the HDF5 file", path);
  return H5File(H5Id(id, H5Fclose), path);
}

bool H5File::has_dataset(const std::string& name) const {
  return H5Lexists(id_.get(), name.c_str(), H5P_DEFAULT) > 0;
}

H5Dataset H5File::open_dataset(const std::string& name, size_t chunk_cache_bytes) const {
  if (!has_dataset(name)) FT_FAIL("{}: no dataset '{}'", path_, name);
  H5Id access = make_id(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose, "cannot create a dataset-access property");
  // 521 slots: a prime well above the chunks a cache of this size holds.
  H5Pset_chunk_cache(access.get(), 521, chunk_cache_bytes, 1.0);
  hid_t id = H5Dopen2(id_.get(), name.c_str(), access.get());
  if (id < 0) FT_FAIL("{}: cannot open dataset '{}' (corrupt file?)", path_, name);
  return H5Dataset(H5Id(id, H5Dclose), path_ + ":/" + name);
}

H5Dataset H5File::create_dataset(const std::string& name, H5Type type, const std::vector<int64_t>& dims,
                                 const std::vector<int64_t>& chunk_dims, bool extendable_rows) {
  FT_CHECK(!dims.empty() && dims.size() == chunk_dims.size(), "{}: dataset '{}' dims and chunk dims differ",
           path_, name);
  std::vector<hsize_t> current = to_hsize(dims), maximum = current, chunk = to_hsize(chunk_dims);
  if (extendable_rows) maximum[0] = H5S_UNLIMITED;
  H5Id space = make_id(H5Screate_simple(int(current.size()), current.data(), maximum.data()), H5Sclose,
                       path_ + ": cannot create a dataspace for " + name);
  H5Id create = make_id(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "cannot create a dataset-create property");
  FT_CHECK(H5Pset_chunk(create.get(), int(chunk.size()), chunk.data()) >= 0, "{}: bad chunk dims for '{}'",
           path_, name);
  // No creation/modification times in the object header: the same data gives the
  // same file bytes (and checksum) whenever and by whichever process it is written.
  FT_CHECK(H5Pset_obj_track_times(create.get(), false) >= 0, "{}: cannot turn off times for '{}'", path_, name);
  hid_t id = H5Dcreate2(id_.get(), name.c_str(), native_type(type), space.get(), H5P_DEFAULT, create.get(),
                        H5P_DEFAULT);
  if (id < 0) FT_FAIL("{}: cannot create dataset '{}'", path_, name);
  return H5Dataset(H5Id(id, H5Dclose), path_ + ":/" + name);
}

void H5File::write_attribute(const std::string& name, int64_t value) {
  H5Id space = make_id(H5Screate(H5S_SCALAR), H5Sclose, "cannot create a scalar dataspace");
  H5Id attribute = make_id(H5Acreate2(id_.get(), name.c_str(), H5T_NATIVE_INT64, space.get(), H5P_DEFAULT,
                                      H5P_DEFAULT),
                           H5Aclose, path_ + ": cannot create attribute " + name);
  FT_CHECK(H5Awrite(attribute.get(), H5T_NATIVE_INT64, &value) >= 0, "{}: cannot write attribute {}", path_, name);
}

void H5File::write_attribute(const std::string& name, const std::string& value) {
  H5Id type = make_id(H5Tcopy(H5T_C_S1), H5Tclose, "cannot copy the string type");
  H5Tset_size(type.get(), value.empty() ? 1 : value.size());
  H5Id space = make_id(H5Screate(H5S_SCALAR), H5Sclose, "cannot create a scalar dataspace");
  H5Id attribute = make_id(H5Acreate2(id_.get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                           H5Aclose, path_ + ": cannot create attribute " + name);
  std::string padded = value.empty() ? std::string(1, '\0') : value;
  FT_CHECK(H5Awrite(attribute.get(), type.get(), padded.data()) >= 0, "{}: cannot write attribute {}", path_, name);
}

bool H5File::has_attribute(const std::string& name) const { return H5Aexists(id_.get(), name.c_str()) > 0; }

int64_t H5File::read_int_attribute(const std::string& name) const {
  if (!has_attribute(name)) FT_FAIL("{}: no attribute '{}'", path_, name);
  H5Id attribute = make_id(H5Aopen(id_.get(), name.c_str(), H5P_DEFAULT), H5Aclose,
                           path_ + ": cannot open attribute " + name);
  int64_t value = 0;
  if (H5Aread(attribute.get(), H5T_NATIVE_INT64, &value) < 0)
    FT_FAIL("{}: attribute '{}' is not an integer", path_, name);
  return value;
}

std::string H5File::read_string_attribute(const std::string& name) const {
  if (!has_attribute(name)) FT_FAIL("{}: no attribute '{}'", path_, name);
  H5Id attribute = make_id(H5Aopen(id_.get(), name.c_str(), H5P_DEFAULT), H5Aclose,
                           path_ + ": cannot open attribute " + name);
  H5Id stored = make_id(H5Aget_type(attribute.get()), H5Tclose, path_ + ": cannot read the type of " + name);
  if (H5Tget_class(stored.get()) != H5T_STRING) FT_FAIL("{}: attribute '{}' is not a string", path_, name);
  if (H5Tis_variable_str(stored.get()) > 0) {
    char* text = nullptr;
    H5Id memory = make_id(H5Tcopy(H5T_C_S1), H5Tclose, "cannot copy the string type");
    H5Tset_size(memory.get(), H5T_VARIABLE);
    FT_CHECK(H5Aread(attribute.get(), memory.get(), &text) >= 0, "{}: cannot read attribute {}", path_, name);
    std::string value = text ? text : "";
    H5free_memory(text);
    return value;
  }
  std::string value(H5Tget_size(stored.get()), '\0');
  FT_CHECK(H5Aread(attribute.get(), stored.get(), value.data()) >= 0, "{}: cannot read attribute {}", path_, name);
  return std::string(value.c_str());  // drops the padding after the first NUL
}

void H5File::close() {
  if (!id_.valid()) return;
  if (H5Fflush(id_.get(), H5F_SCOPE_LOCAL) < 0) FT_FAIL("{}: flushing failed", path_);
  // Closed here rather than by the destructor so that a failure is reported.
  if (H5Fclose(id_.release()) < 0) FT_FAIL("{}: closing failed", path_);
}

}  // namespace ft::io
