// test_mpi: one Boost.Test executable that every rank of an mpirun runs. MPI is
// initialised by the first use of MpiWorld and finalised at exit. Checks use
// BOOST_CHECK (not REQUIRE) wherever a rank continues into further collectives:
// a rank that left a test early would leave the others waiting in a collective.
#define BOOST_TEST_MODULE flowtrain_mpi
#include <boost/test/unit_test.hpp>
