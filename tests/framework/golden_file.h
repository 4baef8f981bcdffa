// Read-only access to the golden HDF5 files written by tests/golden/*.py: a file
// of groups (one per case), each holding datasets (tensors) and attributes (op
// parameters). Thin RAII over the HDF5 C API; errors throw std::runtime_error
// naming the file, case and item, so a test failure says what is missing.
#pragma once
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "framework/core/tensor.h"

namespace ft::testing {

// An HDF5 identifier closed by its matching H5?close when the owner goes away.
class H5Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  H5Handle() = default;
  H5Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~H5Handle() { reset(); }
  H5Handle(H5Handle&& other) noexcept : id_(other.id_), closer_(other.closer_) { other.id_ = H5I_INVALID_HID; }
  H5Handle& operator=(H5Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = other.id_;
      closer_ = other.closer_;
      other.id_ = H5I_INVALID_HID;
    }
    return *this;
  }
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;

  hid_t get() const { return id_; }
  void reset() {
    if (id_ >= 0 && closer_) closer_(id_);
    id_ = H5I_INVALID_HID;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

// One case: a group of datasets and attributes.
class GoldenCase {
 public:
  GoldenCase(H5Handle group, std::string name);

  const std::string& name() const { return name_; }
  bool has(const std::string& dataset) const;
  bool has_attr(const std::string& attr) const;
  // A dataset as a new CPU tensor: f32 for floating data, i64 for integer data.
  // A scalar dataspace gives a 0-d tensor.
  Tensor tensor(const std::string& dataset) const;
  std::string attr_string(const std::string& attr) const;
  std::vector<int64_t> attr_ints(const std::string& attr) const;  // scalar or 1-d
  int64_t attr_int(const std::string& attr) const;                // exactly one value
  double attr_double(const std::string& attr) const;

 private:
  H5Handle open_attr(const std::string& attr) const;

  H5Handle group_;
  std::string name_;
};

class GoldenFile {
 public:
  explicit GoldenFile(const std::string& path);

  const std::string& path() const { return path_; }
  std::vector<std::string> case_names() const;  // in the file's (alphabetical) link order
  GoldenCase open_case(const std::string& name) const;

 private:
  H5Handle file_;
  std::string path_;
};

}  // namespace ft::testing
