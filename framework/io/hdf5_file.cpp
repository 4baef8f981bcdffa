#include "framework/io/hdf5_file.h"

#include <algorithm>
#include <string_view>

#include "framework/core/check.h"

namespace ft::io {

namespace {

// HDF5 prints its error stack to stderr by default; the stack is per thread in a
// thread-safe build, so each thread turns printing off before its first call.
// The stack is still recorded: hdf5_error_cause() reads it.
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

hid_t little_endian_type(H5Type type) {
  switch (type) {
    case H5Type::u8: return H5T_STD_U8LE;
    case H5Type::i32: return H5T_STD_I32LE;
    case H5Type::i64: return H5T_STD_I64LE;
    case H5Type::f32: return H5T_IEEE_F32LE;
    case H5Type::f64: return H5T_IEEE_F64LE;
  }
  FT_FAIL("unknown HDF5 element type {}", int(type));
}

std::vector<hsize_t> to_hsize(const std::vector<int64_t>& dims) {
  return std::vector<hsize_t>(dims.begin(), dims.end());
}

// Every identifier-returning call goes through here: a negative id is a failure
// whose message says what was attempted and why HDF5 refused.
H5Id make_id(hid_t id, H5Id::Closer close, const std::string& what) {
  if (id < 0) FT_FAIL("{}: {}", what, hdf5_error_cause());
  return H5Id(id, close);
}

// Every status-returning call goes through here.
void check_status(herr_t status, const std::string& what) {
  if (status < 0) FT_FAIL("{}: {}", what, hdf5_error_cause());
}

// A tri-state answer (H5Lexists, H5Aexists, H5Tis_variable_str): negative is a failure.
bool check_answer(htri_t answer, const std::string& what) {
  if (answer < 0) FT_FAIL("{}: {}", what, hdf5_error_cause());
  return answer > 0;
}

H5Id scalar_space(const std::string& where) {
  return make_id(H5Screate(H5S_SCALAR), H5Sclose, where + ": cannot create a scalar dataspace");
}

H5Id file_access(const std::string& path) {
  H5Id access = make_id(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, path + ": cannot create a file-access property");
  check_status(H5Pset_file_locking(access.get(), false, true), path + ": cannot turn file locking off");
  return access;
}

struct ErrorWalk {
  std::string os_error, innermost;
};

herr_t visit_error(unsigned, const H5E_error2_t* entry, void* data) {
  auto* walk = static_cast<ErrorWalk*>(data);
  const std::string_view desc = entry->desc ? entry->desc : "";
  walk->innermost = std::string(desc);
  // The POSIX driver records "... errno = 28, error message = 'No space left on device' ...".
  const std::string_view key = "error message = '";
  const size_t at = desc.find(key);
  if (walk->os_error.empty() && at != std::string_view::npos) {
    const size_t start = at + key.size();
    walk->os_error = std::string(desc.substr(start, desc.find('\'', start) - start));
  }
  return 0;
}

}  // namespace

std::string hdf5_error_cause() {
  ErrorWalk walk;
  // H5Ewalk2 leaves the stack it walks alone (it does not start a new API call's stack).
  if (H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, visit_error, &walk) < 0) return "HDF5 error (stack unreadable)";
  if (!walk.os_error.empty()) return walk.os_error;
  return walk.innermost.empty() ? "HDF5 error" : walk.innermost;
}

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

// A close that fails here has nothing left to lose: the objects written through
// it were checked when written, and the file's own close is H5File::close().
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

// ---- H5Object: attributes --------------------------------------------------------

void H5Object::write_attribute(const std::string& name, int64_t value) {
  H5Id space = scalar_space(where_);
  H5Id attribute = make_id(H5Acreate2(id_.get(), name.c_str(), H5T_NATIVE_INT64, space.get(), H5P_DEFAULT,
                                      H5P_DEFAULT),
                           H5Aclose, where_ + ": cannot create attribute " + name);
  check_status(H5Awrite(attribute.get(), H5T_NATIVE_INT64, &value), where_ + ": cannot write attribute " + name);
}

void H5Object::write_attribute(const std::string& name, const std::string& value) {
  H5Id type = make_id(H5Tcopy(H5T_C_S1), H5Tclose, where_ + ": cannot copy the string type");
  check_status(H5Tset_size(type.get(), std::max<size_t>(value.size(), 1)),
               where_ + ": cannot size the string type of " + name);
  H5Id space = scalar_space(where_);
  H5Id attribute = make_id(H5Acreate2(id_.get(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                           H5Aclose, where_ + ": cannot create attribute " + name);
  const std::string padded = value.empty() ? std::string(1, '\0') : value;
  check_status(H5Awrite(attribute.get(), type.get(), padded.data()), where_ + ": cannot write attribute " + name);
}

bool H5Object::has_attribute(const std::string& name) const {
  return check_answer(H5Aexists(id_.get(), name.c_str()), where_ + ": cannot look up attribute " + name);
}

H5Id H5Object::open_attribute(const std::string& name) const {
  if (!has_attribute(name)) FT_FAIL("{}: no attribute '{}'", where_, name);
  return make_id(H5Aopen(id_.get(), name.c_str(), H5P_DEFAULT), H5Aclose, where_ + ": cannot open attribute " + name);
}

std::vector<int64_t> H5Object::read_ints_attribute(const std::string& name) const {
  H5Id attribute = open_attribute(name);
  H5Id space = make_id(H5Aget_space(attribute.get()), H5Sclose, where_ + ": cannot read the shape of " + name);
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (count < 0) FT_FAIL("{}: cannot count the values of attribute '{}': {}", where_, name, hdf5_error_cause());
  std::vector<int64_t> values(size_t(count), 0);
  if (count > 0 && H5Aread(attribute.get(), H5T_NATIVE_INT64, values.data()) < 0)
    FT_FAIL("{}: attribute '{}' is not an integer: {}", where_, name, hdf5_error_cause());
  return values;
}

int64_t H5Object::read_int_attribute(const std::string& name) const {
  const std::vector<int64_t> values = read_ints_attribute(name);
  if (values.size() != 1) FT_FAIL("{}: attribute '{}' holds {} values, not one", where_, name, values.size());
  return values[0];
}

double H5Object::read_double_attribute(const std::string& name) const {
  H5Id attribute = open_attribute(name);
  H5Id space = make_id(H5Aget_space(attribute.get()), H5Sclose, where_ + ": cannot read the shape of " + name);
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (count != 1) FT_FAIL("{}: attribute '{}' holds {} values, not one", where_, name, int64_t(count));
  double value = 0.0;
  if (H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, &value) < 0)
    FT_FAIL("{}: attribute '{}' is not a number: {}", where_, name, hdf5_error_cause());
  return value;
}

std::string H5Object::read_string_attribute(const std::string& name) const {
  H5Id attribute = open_attribute(name);
  H5Id stored = make_id(H5Aget_type(attribute.get()), H5Tclose, where_ + ": cannot read the type of " + name);
  const H5T_class_t kind = H5Tget_class(stored.get());
  if (kind == H5T_NO_CLASS) FT_FAIL("{}: cannot read the type of '{}': {}", where_, name, hdf5_error_cause());
  if (kind != H5T_STRING) FT_FAIL("{}: attribute '{}' is not a string", where_, name);
  if (check_answer(H5Tis_variable_str(stored.get()), where_ + ": cannot read the string type of " + name)) {
    // Variable length (h5py's default for str): HDF5 allocates, H5free_memory frees.
    H5Id memory = make_id(H5Tcopy(H5T_C_S1), H5Tclose, where_ + ": cannot copy the string type");
    check_status(H5Tset_size(memory.get(), H5T_VARIABLE), where_ + ": cannot make a variable-length string type");
    char* text = nullptr;
    check_status(H5Aread(attribute.get(), memory.get(), &text), where_ + ": cannot read attribute " + name);
    std::string value = text ? text : "";
    H5free_memory(text);
    return value;
  }
  const size_t size = H5Tget_size(stored.get());
  if (size == 0) FT_FAIL("{}: cannot read the size of attribute '{}': {}", where_, name, hdf5_error_cause());
  std::string value(size, '\0');
  check_status(H5Aread(attribute.get(), stored.get(), value.data()), where_ + ": cannot read attribute " + name);
  // Fixed length: null-padded, and need not end in a terminator.
  value.resize(std::min(value.find('\0'), size));
  return value;
}

// ---- H5Dataset -------------------------------------------------------------------

H5Dataset::H5Dataset(H5Id id, std::string where) : H5Object(std::move(id), std::move(where)) {
  file_space_ = make_id(H5Dget_space(id_.get()), H5Sclose, where_ + ": cannot read the dataspace");
}

std::vector<int64_t> H5Dataset::dims() const {
  int rank = H5Sget_simple_extent_ndims(file_space_.get());
  if (rank < 0) FT_FAIL("{}: cannot read the rank: {}", where_, hdf5_error_cause());
  std::vector<hsize_t> dims(size_t(rank), 0);
  if (rank > 0 && H5Sget_simple_extent_dims(file_space_.get(), dims.data(), nullptr) < 0)
    FT_FAIL("{}: cannot read the dimensions: {}", where_, hdf5_error_cause());
  return std::vector<int64_t>(dims.begin(), dims.end());
}

H5Type H5Dataset::stored_type() const {
  H5Id type = make_id(H5Dget_type(id_.get()), H5Tclose, where_ + ": cannot read the element type");
  const H5T_class_t kind = H5Tget_class(type.get());
  const size_t size = H5Tget_size(type.get());
  if (kind == H5T_NO_CLASS || size == 0)
    FT_FAIL("{}: cannot read the element type: {}", where_, hdf5_error_cause());
  if (kind == H5T_INTEGER) {
    const H5T_sign_t sign = H5Tget_sign(type.get());
    if (sign == H5T_SGN_ERROR) FT_FAIL("{}: cannot read the element sign: {}", where_, hdf5_error_cause());
    const bool is_signed = sign == H5T_SGN_2;
    if (size == 1 && !is_signed) return H5Type::u8;
    if (size == 4 && is_signed) return H5Type::i32;
    if (size == 8 && is_signed) return H5Type::i64;
  } else if (kind == H5T_FLOAT) {
    if (size == 4) return H5Type::f32;
    if (size == 8) return H5Type::f64;
  }
  FT_FAIL("{}: unsupported element type (class {}, {} bytes)", where_, int(kind), size);
}

bool H5Dataset::stores_integers() const {
  H5Id type = make_id(H5Dget_type(id_.get()), H5Tclose, where_ + ": cannot read the element type");
  const H5T_class_t kind = H5Tget_class(type.get());
  if (kind == H5T_NO_CLASS) FT_FAIL("{}: cannot read the element class: {}", where_, hdf5_error_cause());
  return kind == H5T_INTEGER;
}

uint64_t H5Dataset::file_offset() const {
  const haddr_t offset = H5Dget_offset(id_.get());
  if (offset == HADDR_UNDEF) FT_FAIL("{}: has no file offset (not contiguous, or not allocated)", where_);
  return uint64_t(offset);
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
  check_status(H5Sselect_hyperslab(file_space_.get(), H5S_SELECT_SET, start.data(), nullptr, row_dims.data(),
                                   nullptr),
               fmt::format("{}: cannot select rows [{}, {})", where_, first, first + count));
}

void H5Dataset::read_rows(int64_t first, int64_t count, H5Type type, void* out) {
  if (count == 0) return;
  std::vector<hsize_t> row_dims;
  select_rows(first, count, row_dims);
  H5Id memory = make_id(H5Screate_simple(int(row_dims.size()), row_dims.data(), nullptr), H5Sclose,
                        where_ + ": cannot create a memory dataspace");
  if (H5Dread(id_.get(), native_type(type), memory.get(), file_space_.get(), H5P_DEFAULT, out) < 0)
    FT_FAIL("{}: reading rows [{}, {}) failed (truncated or corrupt file?): {}", where_, first, first + count,
            hdf5_error_cause());
}

void H5Dataset::read_all(H5Type type, void* out) {
  if (H5Dread(id_.get(), native_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
    FT_FAIL("{}: reading the dataset failed (truncated or corrupt file?): {}", where_, hdf5_error_cause());
}

void H5Dataset::write_rows(int64_t first, int64_t count, H5Type type, const void* data) {
  if (count == 0) return;
  std::vector<int64_t> full = dims();
  FT_CHECK(!full.empty(), "{}: a scalar dataset has no rows", where_);
  if (first + count > full[0]) {
    std::vector<hsize_t> grown = to_hsize(full);
    grown[0] = hsize_t(first + count);
    if (H5Dset_extent(id_.get(), grown.data()) < 0)
      FT_FAIL("{}: cannot grow to {} rows (not created extendable?): {}", where_, first + count, hdf5_error_cause());
    file_space_ = make_id(H5Dget_space(id_.get()), H5Sclose, where_ + ": cannot read the dataspace");
  }
  std::vector<hsize_t> row_dims;
  select_rows(first, count, row_dims);
  H5Id memory = make_id(H5Screate_simple(int(row_dims.size()), row_dims.data(), nullptr), H5Sclose,
                        where_ + ": cannot create a memory dataspace");
  if (H5Dwrite(id_.get(), native_type(type), memory.get(), file_space_.get(), H5P_DEFAULT, data) < 0)
    FT_FAIL("{}: writing rows [{}, {}) failed: {}", where_, first, first + count, hdf5_error_cause());
}

void H5Dataset::write_all(H5Type type, const void* data) {
  check_status(H5Dwrite(id_.get(), native_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
               where_ + ": writing the dataset failed");
}

// ---- H5Group ---------------------------------------------------------------------

std::string H5Group::child_where(const std::string& name) const {
  return where_ == file_ ? file_ + ":/" + name : where_ + "/" + name;
}

bool H5Group::has(const std::string& name) const {
  // Prefix by prefix: H5Lexists fails, rather than answers no, when a group on
  // the way is missing.
  for (size_t slash = name.find('/'); ; slash = name.find('/', slash + 1)) {
    const std::string prefix = name.substr(0, slash);
    if (!check_answer(H5Lexists(id_.get(), prefix.c_str(), H5P_DEFAULT), where_ + ": cannot look up " + prefix))
      return false;
    if (slash == std::string::npos) return true;
  }
}

std::vector<std::string> H5Group::link_names() const {
  H5G_info_t info;
  check_status(H5Gget_info(id_.get(), &info), where_ + ": cannot list the group");
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t length =
        H5Lget_name_by_idx(id_.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (length < 0) FT_FAIL("{}: cannot read the name of link {}: {}", where_, i, hdf5_error_cause());
    std::string name(size_t(length) + 1, '\0');
    if (H5Lget_name_by_idx(id_.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT) < 0)
      FT_FAIL("{}: cannot read the name of link {}: {}", where_, i, hdf5_error_cause());
    name.resize(size_t(length));
    names.push_back(std::move(name));
  }
  return names;
}

H5Group H5Group::open_group(const std::string& name) const {
  if (!has(name)) FT_FAIL("{}: no group '{}'", where_, name);
  H5Id id = make_id(H5Gopen2(id_.get(), name.c_str(), H5P_DEFAULT), H5Gclose,
                    where_ + ": cannot open group '" + name + "' (not a group, or a corrupt file?)");
  return H5Group(std::move(id), child_where(name), file_);
}

H5Dataset H5Group::open_dataset(const std::string& name, size_t chunk_cache_bytes) const {
  if (!has(name)) FT_FAIL("{}: no dataset '{}'", where_, name);
  H5Id access = make_id(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose, where_ + ": cannot create a dataset-access property");
  // 521 slots: a prime well above the chunks a cache of this size holds.
  check_status(H5Pset_chunk_cache(access.get(), 521, chunk_cache_bytes, 1.0), where_ + ": cannot size the chunk cache");
  H5Id id = make_id(H5Dopen2(id_.get(), name.c_str(), access.get()), H5Dclose,
                    where_ + ": cannot open dataset '" + name + "' (corrupt file?)");
  return H5Dataset(std::move(id), child_where(name));
}

H5Dataset H5Group::create_dataset(const std::string& name, H5Type type, const std::vector<int64_t>& dims,
                                  const std::vector<int64_t>& chunk_dims, bool extendable_rows) {
  FT_CHECK(!dims.empty() && dims.size() == chunk_dims.size(), "{}: dataset '{}' dims and chunk dims differ",
           where_, name);
  std::vector<hsize_t> current = to_hsize(dims), maximum = current, chunk = to_hsize(chunk_dims);
  if (extendable_rows) maximum[0] = H5S_UNLIMITED;
  H5Id space = make_id(H5Screate_simple(int(current.size()), current.data(), maximum.data()), H5Sclose,
                       where_ + ": cannot create a dataspace for " + name);
  H5Id create = make_id(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, where_ + ": cannot create a dataset-create property");
  check_status(H5Pset_chunk(create.get(), int(chunk.size()), chunk.data()), where_ + ": bad chunk dims for " + name);
  // No creation/modification times in object headers: the same data gives the same
  // file bytes (and checksum) whenever and by whichever process it is written.
  check_status(H5Pset_obj_track_times(create.get(), false), where_ + ": cannot turn off times for " + name);
  H5Id id = make_id(H5Dcreate2(id_.get(), name.c_str(), native_type(type), space.get(), H5P_DEFAULT, create.get(),
                               H5P_DEFAULT),
                    H5Dclose, where_ + ": cannot create dataset " + name);
  return H5Dataset(std::move(id), child_where(name));
}

H5Dataset H5Group::create_contiguous_dataset(const std::string& name, H5Type type, uint64_t elements) {
  H5Id link = make_id(H5Pcreate(H5P_LINK_CREATE), H5Pclose, where_ + ": cannot create a link-create property");
  check_status(H5Pset_create_intermediate_group(link.get(), 1), where_ + ": cannot ask for intermediate groups");
  H5Id create = make_id(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, where_ + ": cannot create a dataset-create property");
  check_status(H5Pset_layout(create.get(), H5D_CONTIGUOUS), where_ + ": cannot ask for a contiguous layout");
  check_status(H5Pset_alloc_time(create.get(), H5D_ALLOC_TIME_EARLY), where_ + ": cannot ask for early allocation");
  check_status(H5Pset_fill_time(create.get(), H5D_FILL_TIME_NEVER), where_ + ": cannot turn the fill off");
  check_status(H5Pset_obj_track_times(create.get(), false), where_ + ": cannot turn off times for " + name);
  const hsize_t dims[1] = {hsize_t(elements)};
  H5Id space = make_id(H5Screate_simple(1, dims, nullptr), H5Sclose, where_ + ": cannot create a dataspace for " + name);
  H5Id id = make_id(H5Dcreate2(id_.get(), name.c_str(), little_endian_type(type), space.get(), link.get(),
                               create.get(), H5P_DEFAULT),
                    H5Dclose, where_ + ": cannot create dataset " + name);
  return H5Dataset(std::move(id), child_where(name));
}

// ---- H5File ----------------------------------------------------------------------

H5File H5File::open_read(const std::string& path) {
  quiet_hdf5_errors();
  H5Id access = file_access(path);
  hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, access.get());
  if (id < 0) FT_FAIL("{}: not a readable HDF5 file (missing, truncated or corrupt): {}", path, hdf5_error_cause());
  return H5File(H5Id(id, H5Fclose), path);
}

H5File H5File::create(const std::string& path) {
  quiet_hdf5_errors();
  H5Id access = file_access(path);
  hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get());
  if (id < 0) FT_FAIL("{}: cannot create the HDF5 file: {}", path, hdf5_error_cause());
  return H5File(H5Id(id, H5Fclose), path);
}

H5Group H5File::root() const {
  H5Id id = make_id(H5Gopen2(id_.get(), "/", H5P_DEFAULT), H5Gclose, file_ + ": cannot open the root group");
  return H5Group(std::move(id), file_, file_);
}

void H5File::close() {
  if (!id_.valid()) return;
  if (H5Fflush(id_.get(), H5F_SCOPE_LOCAL) < 0) FT_FAIL("{}: flushing failed: {}", file_, hdf5_error_cause());
  // Closed here rather than by the destructor so that a failure is reported.
  if (H5Fclose(id_.release()) < 0) FT_FAIL("{}: closing failed: {}", file_, hdf5_error_cause());
}

}  // namespace ft::io
