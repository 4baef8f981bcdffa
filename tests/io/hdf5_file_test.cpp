// io::H5File, the tree's one way into HDF5: groups, attributes on any object,
// contiguous early-allocated datasets, and errors that carry HDF5's cause.
#include "framework/io/hdf5_file.h"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "framework/core/check.h"
#include "tests/support/scratch_dir.h"

using namespace ft::io;

BOOST_AUTO_TEST_SUITE(hdf5_file)

BOOST_AUTO_TEST_CASE(groups_attributes_and_contiguous_datasets_round_trip) {
  ft::testing::ScratchDir dir("hdf5");
  const std::string path = dir.str("file.h5");
  const std::vector<float> values = {1.5f, -2.0f, 3.25f};
  uint64_t offset = 0;
  {
    H5File file = H5File::create(path);
    file.write_attribute("kind", std::string("test"));
    file.write_attribute("count", int64_t(3));
    H5Dataset data = file.create_contiguous_dataset("a/b/values", H5Type::f32, values.size());
    data.write_all(H5Type::f32, values.data());
    data.write_attribute("meta", std::string("{\"n\":3}"));
    offset = data.file_offset();
    file.close();
  }
  H5File file = H5File::open_read(path);
  BOOST_TEST(file.read_string_attribute("kind") == "test");
  BOOST_TEST(file.read_int_attribute("count") == 3);
  BOOST_TEST(file.read_ints_attribute("count") == std::vector<int64_t>{3});
  BOOST_TEST(file.read_double_attribute("count") == 3.0);
  BOOST_TEST(file.link_names() == std::vector<std::string>{"a"});
  BOOST_TEST(file.has("a/b/values"));
  BOOST_TEST(!file.has("a/c/values"));  // a missing group on the way is a no, not an error
  H5Group b = file.open_group("a").open_group("b");
  BOOST_TEST(b.where() == path + ":/a/b");
  H5Dataset data = b.open_dataset("values");
  BOOST_TEST(data.dims() == std::vector<int64_t>{3});
  BOOST_TEST(!data.stores_integers());
  BOOST_TEST(data.read_string_attribute("meta") == "{\"n\":3}");
  std::vector<float> back(values.size());
  data.read_all(H5Type::f32, back.data());
  BOOST_TEST(back == values, boost::test_tools::per_element());
  // The data sits at file_offset(), as raw little-endian float32: what the
  // checkpoint writer's pwrite relies on.
  std::ifstream raw(path, std::ios::binary);
  raw.seekg(std::streamoff(offset));
  std::vector<float> bytes(values.size());
  raw.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(bytes.size() * sizeof(float)));
  BOOST_TEST(bytes == values, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(errors_name_the_object_and_the_os_error) {
  ft::testing::ScratchDir dir("hdf5");
  const std::string missing = dir.str("missing.h5");
  try {
    H5File::open_read(missing);
    BOOST_FAIL("opening a missing file did not throw");
  } catch (const ft::Error& e) {
    const std::string message = e.what();
    BOOST_TEST(message.find(missing) != std::string::npos, message);
    BOOST_TEST(message.find("No such file or directory") != std::string::npos, message);
  }
  H5File file = H5File::create(dir.str("file.h5"));
  file.write_attribute("count", int64_t(1));
  BOOST_CHECK_THROW(file.write_attribute("count", int64_t(2)), ft::Error);  // exists already
  BOOST_CHECK_THROW(file.read_string_attribute("count"), ft::Error);       // not a string
  BOOST_CHECK_THROW(file.open_dataset("nothing"), ft::Error);
}

BOOST_AUTO_TEST_SUITE_END()
