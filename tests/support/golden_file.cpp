#include "tests/support/golden_file.h"

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>

namespace ft::testing {

GoldenGroup GoldenGroup::group(const std::string& name) const {
  BOOST_REQUIRE_MESSAGE(has(name), "golden file: no case " << name << " in " << group_.where());
  return GoldenGroup(group_.open_group(name), name);
}

io::H5Dataset GoldenGroup::open(const std::string& dataset) const {
  BOOST_REQUIRE_MESSAGE(has(dataset), "golden file: " << group_.where() << " lacks " << dataset);
  return group_.open_dataset(dataset);
}

Tensor GoldenGroup::tensor(const std::string& dataset) const {
  io::H5Dataset ds = open(dataset);
  const std::vector<int64_t> dims = ds.dims();
  const bool integer = ds.stores_integers();
  Tensor t = Tensor::empty(Shape(dims.begin(), dims.end()), integer ? DType::i64 : DType::f32);
  if (t.numel() > 0) ds.read_all(integer ? io::H5Type::i64 : io::H5Type::f32, t.raw_data());
  return t;
}

std::vector<double> GoldenGroup::doubles(const std::string& dataset) const {
  io::H5Dataset ds = open(dataset);
  int64_t count = 1;
  for (int64_t d : ds.dims()) count *= d;
  std::vector<double> values(size_t(count), 0.0);
  if (count > 0) ds.read_all(io::H5Type::f64, values.data());
  return values;
}

GoldenFile::GoldenFile(const std::string& file_name, const std::string& fixture)
    : GoldenFile(open_file(file_name, fixture)) {}

GoldenFile GoldenFile::open_file(const std::string& file_name, const std::string& fixture) {
  const char* dir = std::getenv("FLOWTRAIN_GOLDEN_DIR");
  const std::string path = std::string(dir && *dir ? dir : "golden") + "/" + file_name;
  BOOST_REQUIRE_MESSAGE(std::filesystem::exists(path),
                        "golden file " << path << " is missing: run the tests through ctest from the build directory"
                                       << " (ctest -R \"" << fixture << "|test_\") so the " << fixture
                                       << " fixture writes it first, or set FLOWTRAIN_GOLDEN_DIR to where it is");
  // The root group keeps the file open once the H5File handle goes.
  return GoldenFile(io::H5File::open_read(path).root(), path);
}

}  // namespace ft::testing
