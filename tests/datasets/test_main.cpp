// The datasets suite: converters, shards, verification, sampler and reader.
#define BOOST_TEST_MODULE datasets
#include <boost/test/unit_test.hpp>
