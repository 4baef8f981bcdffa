#define BOOST_TEST_MODULE flowtrain_launch
#include <boost/test/unit_test.hpp>
