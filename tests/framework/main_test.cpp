#define BOOST_TEST_MODULE flowtrain_framework
#include <boost/test/unit_test.hpp>
