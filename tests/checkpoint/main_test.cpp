// test_checkpoint: one Boost.Test executable that every rank of an mpirun runs.
// Checks that sit between collectives use BOOST_CHECK (not REQUIRE), so that no
// rank leaves a test early while the others wait in a collective.
#define BOOST_TEST_MODULE flowtrain_checkpoint
#include <boost/test/unit_test.hpp>
