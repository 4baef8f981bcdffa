// Golden HDF5 files written by the PyTorch scripts in tests/golden/ (CTest fixtures
// that run before test_layers), read as tensors.
#pragma once
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "framework/core/tensor.h"
#include "framework/io/hdf5_file.h"

namespace ft::testing {

class GoldenFile {
 public:
  // FLOWTRAIN_GOLDEN_DIR/file_name; a missing file fails the test naming the fixture.
  GoldenFile(const std::string& file_name, const std::string& fixture) {
    const char* dir = std::getenv("FLOWTRAIN_GOLDEN_DIR");
    std::string path = std::string(dir && *dir ? dir : "golden") + "/" + file_name;
    BOOST_REQUIRE_MESSAGE(std::filesystem::exists(path),
                          "golden file " << path << " is missing: run through ctest from the build directory (ctest -R \""
                                         << fixture << "|test_layers\") so the " << fixture
                                         << " fixture writes it first, or set FLOWTRAIN_GOLDEN_DIR");
    file_ = io::H5File::open_read(path);
  }

  // A dataset as a tensor: f32 for floating data (f64 scalars included), i64 for integers.
  Tensor read(const std::string& name) const {
    BOOST_REQUIRE_MESSAGE(file_.has_dataset(name), "golden file " << file_.path() << " lacks " << name);
    io::H5Dataset ds = file_.open_dataset(name);
    std::vector<int64_t> dims = ds.dims();
    io::H5Type stored = ds.stored_type();
    bool integer = stored == io::H5Type::i32 || stored == io::H5Type::i64;
    Tensor t = Tensor::empty(Shape(dims.begin(), dims.end()), integer ? DType::i64 : DType::f32);
    ds.read_all(integer ? io::H5Type::i64 : io::H5Type::f32, t.raw_data());
    return t;
  }

  bool has(const std::string& name) const { return file_.has_dataset(name); }

 private:
  io::H5File file_;
};

}  // namespace ft::testing
