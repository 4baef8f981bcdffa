// Agreement on start-up checks: every rank learns every rank's outcome, and all
// of them fail together with the lowest failing rank's message.
#include <boost/test/unit_test.hpp>

#include <string>

#include "framework/dist/agreement.h"
#include "tests/mpi/mpi_testing.h"

using namespace ft;
using ft::testing::world;

BOOST_AUTO_TEST_SUITE(agreement)

BOOST_AUTO_TEST_CASE(all_gather_string_in_rank_order) {
  auto comm = world();
  // Different lengths, one empty: padding must not leak into the strings.
  const std::string mine = comm->rank() == 1 ? "" : "rank-" + std::string(size_t(comm->rank()) * 3 + 1, 'x');
  std::vector<std::string> all = comm->all_gather_string(mine);
  BOOST_TEST_REQUIRE(all.size() == size_t(comm->size()));
  for (int r = 0; r < comm->size(); ++r)
    BOOST_TEST(all[size_t(r)] == (r == 1 ? "" : "rank-" + std::string(size_t(r) * 3 + 1, 'x')));
}

BOOST_AUTO_TEST_CASE(success_everywhere_passes) {
  auto comm = world();
  int ran = 0;
  dist::run_agreed(*comm, [&] { ++ran; });
  BOOST_TEST(ran == 1);
}

BOOST_AUTO_TEST_CASE(one_failing_rank_fails_every_rank_with_its_message) {
  auto comm = world();
  const int last = comm->size() - 1;
  try {
    dist::run_agreed(*comm, [&] {
      if (comm->rank() == last) FT_FAIL("data.train = '/missing': no such folder");
    });
    BOOST_FAIL("run_agreed returned although rank " << last << " failed");
  } catch (const dist::AgreedFailure& e) {
    std::string expected = "data.train = '/missing': no such folder";
    if (comm->size() > 1) expected = "rank " + std::to_string(last) + ": " + expected;
    BOOST_TEST(e.what() == expected);
    BOOST_TEST(e.first_failed_rank() == last);
    BOOST_TEST(e.failed_ranks() == 1);
  }
  comm->barrier();  // still in step: the next collective matches on every rank
}

BOOST_AUTO_TEST_CASE(every_rank_failing_names_no_rank) {
  auto comm = world();
  try {
    dist::run_agreed(*comm, [&] { FT_FAIL("model.widht: unknown key (rank {})", comm->rank()); });
    BOOST_FAIL("run_agreed returned although every rank failed");
  } catch (const dist::AgreedFailure& e) {
    BOOST_TEST(e.what() == std::string("model.widht: unknown key (rank 0)"));
    BOOST_TEST(e.failed_ranks() == comm->size());
  }
}

BOOST_AUTO_TEST_CASE(several_failing_ranks_report_the_first_and_a_count) {
  auto comm = world();
  if (comm->size() < 3) return;  // needs a rank that succeeds and two that fail
  try {
    dist::run_agreed(*comm, [&] {
      if (comm->rank() >= 1) FT_FAIL("bad shard on rank {}", comm->rank());
    });
    BOOST_FAIL("run_agreed returned although ranks failed");
  } catch (const dist::AgreedFailure& e) {
    BOOST_TEST(e.what() == "rank 1: bad shard on rank 1 (and " + std::to_string(comm->size() - 2) + " more of the " +
                               std::to_string(comm->size()) + " ranks failed)");
  }
}

BOOST_AUTO_TEST_SUITE_END()
