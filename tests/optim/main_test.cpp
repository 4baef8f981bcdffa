#define BOOST_TEST_MODULE flowtrain_optim
#include <boost/test/unit_test.hpp>
