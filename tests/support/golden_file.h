// Read-only access to the golden HDF5 files that tests/golden/*.py write from
// PyTorch (CTest fixtures golden_ops, golden_glow, golden_tarflow, golden_optim,
// which run before the suites that read them): groups (one per case in ops.h5),
// datasets (tensors) and attributes (op parameters). On io::H5File, so errors throw
// ft::Error naming the file, the object and HDF5's cause.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "framework/core/tensor.h"
#include "framework/io/hdf5_file.h"

namespace ft::testing {

// One group of a golden file: the file's top level, or a case.
class GoldenGroup {
 public:
  GoldenGroup(io::H5Group group, std::string name) : group_(std::move(group)), name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  bool has(const std::string& item) const { return group_.has(item); }  // "a/b" paths work
  bool has_attr(const std::string& attr) const { return group_.has_attribute(attr); }
  std::vector<std::string> names() const { return group_.link_names(); }  // alphabetical
  GoldenGroup group(const std::string& name) const;

  // A dataset as a new CPU tensor: f32 for floating data, i64 for integer data (HDF5
  // converts on read, so the stored width and byte order do not matter); a scalar
  // dataset gives a 0-d tensor.
  Tensor tensor(const std::string& dataset) const;
  std::vector<double> doubles(const std::string& dataset) const;  // any numeric data, flattened

  std::string attr_string(const std::string& attr) const { return group_.read_string_attribute(attr); }
  std::vector<int64_t> attr_ints(const std::string& attr) const { return group_.read_ints_attribute(attr); }
  int64_t attr_int(const std::string& attr) const { return group_.read_int_attribute(attr); }
  double attr_double(const std::string& attr) const { return group_.read_double_attribute(attr); }

 private:
  io::H5Dataset open(const std::string& dataset) const;

  io::H5Group group_;
  std::string name_;
};

class GoldenFile : public GoldenGroup {
 public:
  // $FLOWTRAIN_GOLDEN_DIR/file_name; a missing file fails the calling test case,
  // naming the CTest fixture that writes it.
  GoldenFile(const std::string& file_name, const std::string& fixture);

  const std::string& path() const { return path_; }
  std::vector<std::string> case_names() const { return names(); }
  GoldenGroup open_case(const std::string& name) const { return group(name); }

 private:
  GoldenFile(io::H5Group root, std::string path) : GoldenGroup(std::move(root), ""), path_(std::move(path)) {}
  static GoldenFile open_file(const std::string& file_name, const std::string& fixture);
  std::string path_;
};

}  // namespace ft::testing
