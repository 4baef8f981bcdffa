// Resharding across mpiruns: reshard/write (run at 4 ranks by the CTest fixture
// checkpoint_write_np4) saves into $FLOWTRAIN_RESHARD_DIR; reshard/read (run at 2
// and 3 ranks) loads it, each rank reading its own uneven share of the new world.
// Both are disabled by default and run when named with --run_test.
#include <boost/test/unit_test.hpp>

#include <cstdlib>

#include "framework/checkpoint/checkpoint.h"
#include "tests/checkpoint/checkpoint_testing.h"

using namespace ft;
using namespace ft::checkpoint;
using ft::testing::world;
namespace fs = std::filesystem;
namespace utf = boost::unit_test;

namespace {

constexpr int64_t kStep = 4000;
const std::vector<std::pair<std::string, int64_t>> kVectors = {
    {"params", 100'003}, {"optimizer/exp_avg", 100'003}, {"optimizer/exp_avg_sq", 100'003}, {"ema", 17}};

int tag(size_t index) { return int(index) + 10; }

fs::path reshard_dir() {
  const char* dir = std::getenv("FLOWTRAIN_RESHARD_DIR");
  BOOST_TEST_REQUIRE(dir != nullptr, "FLOWTRAIN_RESHARD_DIR is not set");
  return dir;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reshard)

BOOST_AUTO_TEST_CASE(write, *utf::disabled()) {
  auto comm = world();
  const fs::path dir = reshard_dir();
  if (comm->rank() == 0) fs::remove_all(dir);
  comm->barrier();
  std::vector<std::vector<float>> values;
  SaveRequest request;
  request.checkpoints_dir = dir;
  request.step = kStep;
  for (size_t i = 0; i < kVectors.size(); ++i) {
    const auto& [name, length] = kVectors[i];
    values.push_back(ft::testing::pattern_vector(tag(i), kStep, length));
    // The writing world's pieces are uneven in the other direction from the readers'.
    auto [begin, count] = ft::testing::uneven_piece(length, comm->size() - 1 - comm->rank(), comm->size());
    request.slices.push_back({name, length, begin, count, values.back().data() + begin});
  }
  request.rank_state = {{"rank", comm->rank()}};
  request.global_state = {{"written_by", comm->size()}};
  save(request, *comm);
  BOOST_CHECK_EQUAL(verify(dir / "step_00004000"), "");
}

BOOST_AUTO_TEST_CASE(read, *utf::disabled()) {
  auto comm = world();
  auto chosen = find_latest_valid(reshard_dir(), *comm, {});
  BOOST_TEST_REQUIRE(chosen.has_value());
  CheckpointReader reader(*chosen);
  BOOST_CHECK_EQUAL(reader.step(), kStep);
  BOOST_CHECK_EQUAL(reader.global_state()["written_by"].get<int>(), reader.world_size());
  for (int r = 0; r < reader.world_size(); ++r) BOOST_CHECK_EQUAL(reader.rank_state(r)["rank"].get<int>(), r);
  for (size_t i = 0; i < kVectors.size(); ++i) {
    const auto& [name, length] = kVectors[i];
    BOOST_CHECK_EQUAL(reader.length(name), length);
    const auto [begin, count] = ft::testing::uneven_piece(length, comm->rank(), comm->size());
    std::vector<float> got(static_cast<size_t>(count));
    reader.read_range(name, begin, count, got.data());
    const auto full = ft::testing::pattern_vector(tag(i), kStep, length);
    BOOST_CHECK_MESSAGE(ft::testing::exactly_equal(got, std::vector<float>(full.begin() + begin,
                                                                           full.begin() + begin + count)),
                        name << " [" << begin << ", " << begin + count << ") differs");
  }
  BOOST_TEST_MESSAGE("read a checkpoint of " << reader.world_size() << " ranks at " << comm->size() << " ranks");
}

BOOST_AUTO_TEST_SUITE_END()
