#define BOOST_TEST_MODULE flowtrain_layers
#include <boost/test/unit_test.hpp>
