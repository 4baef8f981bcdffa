#include "tests/framework/golden_file.h"

#include <filesystem>
#include <stdexcept>
#include <utility>

namespace ft::testing {

namespace {

[[noreturn]] void fail(const std::string& message) { throw std::runtime_error("golden file: " + message); }

// Shape of a dataspace; a scalar dataspace has rank 0 (a 0-d tensor).
Shape shape_of(hid_t space, const std::string& what) {
  int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0) fail("cannot read the rank of " + what);
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space, dims.data(), nullptr) < 0) fail("cannot read the shape of " + what);
  return Shape(dims.begin(), dims.end());
}

}  // namespace

// ---- GoldenCase ----------------------------------------------------------------------

GoldenCase::GoldenCase(H5Handle group, std::string name) : group_(std::move(group)), name_(std::move(name)) {}

bool GoldenCase::has(const std::string& dataset) const {
  return H5Lexists(group_.get(), dataset.c_str(), H5P_DEFAULT) > 0;
}

bool GoldenCase::has_attr(const std::string& attr) const { return H5Aexists(group_.get(), attr.c_str()) > 0; }

Tensor GoldenCase::tensor(const std::string& dataset) const {
  std::string what = name_ + "/" + dataset;
  if (!has(dataset)) fail("no dataset " + what);
  H5Handle set(H5Dopen2(group_.get(), dataset.c_str(), H5P_DEFAULT), H5Dclose);
  if (set.get() < 0) fail("cannot open " + what);
  H5Handle space(H5Dget_space(set.get()), H5Sclose);
  H5Handle type(H5Dget_type(set.get()), H5Tclose);
  if (space.get() < 0 || type.get() < 0) fail("cannot read the type of " + what);
  Shape shape = shape_of(space.get(), what);
  // HDF5 converts on read, so the file's byte order and width do not matter.
  switch (H5Tget_class(type.get())) {
    case H5T_FLOAT: {
      std::vector<float> values(static_cast<size_t>(numel_of(shape)));
      if (H5Dread(set.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
        fail("cannot read " + what);
      return Tensor::from_vector(values, shape);
    }
    case H5T_INTEGER: {
      std::vector<int64_t> values(static_cast<size_t>(numel_of(shape)));
      if (H5Dread(set.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
        fail("cannot read " + what);
      return Tensor::from_vector(values, shape);
    }
    default:
      fail(what + " is neither floating-point nor integer data");
  }
}

H5Handle GoldenCase::open_attr(const std::string& attr) const {
  if (!has_attr(attr)) fail("no attribute " + attr + " on " + name_);
  H5Handle handle(H5Aopen(group_.get(), attr.c_str(), H5P_DEFAULT), H5Aclose);
  if (handle.get() < 0) fail("cannot open attribute " + attr + " on " + name_);
  return handle;
}

std::string GoldenCase::attr_string(const std::string& attr) const {
  H5Handle a = open_attr(attr);
  H5Handle type(H5Aget_type(a.get()), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING) fail("attribute " + attr + " on " + name_ + " is not a string");
  if (H5Tis_variable_str(type.get()) > 0) {
    // Variable-length (h5py's default for str): HDF5 allocates, we free with H5free_memory.
    H5Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), H5T_VARIABLE);
    char* text = nullptr;
    if (H5Aread(a.get(), mem.get(), &text) < 0 || !text) fail("cannot read attribute " + attr + " on " + name_);
    std::string value(text);
    H5free_memory(text);
    return value;
  }
  // Fixed-length: may be null-padded and need not end in a terminator.
  size_t size = H5Tget_size(type.get());
  std::string value(size, '\0');
  if (H5Aread(a.get(), type.get(), value.data()) < 0) fail("cannot read attribute " + attr + " on " + name_);
  value.resize(value.find('\0') == std::string::npos ? size : value.find('\0'));
  return value;
}

std::vector<int64_t> GoldenCase::attr_ints(const std::string& attr) const {
  H5Handle a = open_attr(attr);
  H5Handle space(H5Aget_space(a.get()), H5Sclose);
  hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0) fail("cannot read the size of attribute " + attr + " on " + name_);
  std::vector<int64_t> values(static_cast<size_t>(n));
  if (n > 0 && H5Aread(a.get(), H5T_NATIVE_INT64, values.data()) < 0)
    fail("attribute " + attr + " on " + name_ + " is not integer");
  return values;
}

int64_t GoldenCase::attr_int(const std::string& attr) const {
  std::vector<int64_t> values = attr_ints(attr);
  if (values.size() != 1) fail("attribute " + attr + " on " + name_ + " holds " + std::to_string(values.size()) +
                               " values, not one");
  return values[0];
}

double GoldenCase::attr_double(const std::string& attr) const {
  H5Handle a = open_attr(attr);
  H5Handle space(H5Aget_space(a.get()), H5Sclose);
  if (H5Sget_simple_extent_npoints(space.get()) != 1) fail("attribute " + attr + " on " + name_ + " is not a scalar");
  double value = 0.0;
  if (H5Aread(a.get(), H5T_NATIVE_DOUBLE, &value) < 0) fail("attribute " + attr + " on " + name_ + " is not numeric");
  return value;
}

// ---- GoldenFile ----------------------------------------------------------------------

GoldenFile::GoldenFile(const std::string& path) : path_(path) {
  // Checked first because HDF5 would print its own error stack for a missing file.
  if (!std::filesystem::exists(path)) fail(path + " is missing");
  file_ = H5Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (file_.get() < 0) fail("cannot open " + path);
}

std::vector<std::string> GoldenFile::case_names() const {
  H5G_info_t info;
  if (H5Gget_info(file_.get(), &info) < 0) fail("cannot list " + path_);
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    ssize_t length = H5Lget_name_by_idx(file_.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (length < 0) fail("cannot read link names of " + path_);
    std::string name(size_t(length) + 1, '\0');
    H5Lget_name_by_idx(file_.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT);
    name.resize(size_t(length));
    names.push_back(std::move(name));
  }
  return names;
}

GoldenCase GoldenFile::open_case(const std::string& name) const {
  if (H5Lexists(file_.get(), name.c_str(), H5P_DEFAULT) <= 0) fail("no case " + name + " in " + path_);
  H5Handle group(H5Gopen2(file_.get(), name.c_str(), H5P_DEFAULT), H5Gclose);
  if (group.get() < 0) fail("cannot open case " + name + " in " + path_);
  return GoldenCase(std::move(group), name);
}

}  // namespace ft::testing
