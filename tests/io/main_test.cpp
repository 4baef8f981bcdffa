// The io suite: CRC32C, PNG and image grids, TensorBoard event files, metrics.
#define BOOST_TEST_MODULE flowtrain_io
#include <boost/test/unit_test.hpp>
