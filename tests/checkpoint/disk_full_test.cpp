// A full disk during a save: run by run_disk_full.py with $FLOWTRAIN_FULL_DISK_DIR
// on a 2 MiB tmpfs (disabled otherwise). The first checkpoint fits, the second
// cannot: every rank throws naming the OS error, and the first checkpoint,
// `latest` and the folder are as before.
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

struct Saved {
  std::vector<float> values;
  SaveRequest request;
};

// `elements` floats of one vector, split evenly over the ranks.
void fill_request(Saved& s, const fs::path& dir, int64_t step, int64_t elements, dist::Communicator& comm) {
  s.values = ft::testing::pattern_vector(1, step, elements);
  const auto [begin, count] = ft::testing::uneven_piece(elements, comm.rank(), comm.size());
  s.request.checkpoints_dir = dir;
  s.request.step = step;
  s.request.slices = {{"params", elements, begin, count, s.values.data() + begin}};
}

}  // namespace

BOOST_AUTO_TEST_CASE(disk_full, *utf::disabled()) {
  auto comm = world();
  const char* mount = std::getenv("FLOWTRAIN_FULL_DISK_DIR");
  BOOST_TEST_REQUIRE(mount != nullptr, "FLOWTRAIN_FULL_DISK_DIR is not set");
  const fs::path dir = fs::path(mount) / "checkpoints";
  Saved small, large;
  fill_request(small, dir, 10, 64 * 1024, *comm);        // 256 KiB: fits
  fill_request(large, dir, 20, 1024 * 1024, *comm);      // 4 MiB: does not
  save(small.request, *comm);
  std::string message;
  try {
    save(large.request, *comm);
  } catch (const Error& e) {
    message = e.what();
  }
  BOOST_TEST_MESSAGE("rank " << comm->rank() << ": " << message);
  BOOST_CHECK_MESSAGE(message.find("No space left on device") != std::string::npos, message);
  BOOST_CHECK_MESSAGE(message.find(".h5") != std::string::npos, "names the shard: " << message);
  BOOST_CHECK_EQUAL(message.find('\n'), std::string::npos);
  comm->barrier();
  BOOST_CHECK_EQUAL(read_latest(dir), "step_00000010");
  BOOST_CHECK_EQUAL(verify(dir / "step_00000010"), "");
  BOOST_CHECK_EQUAL(list_committed(dir).size(), 1u);
  for (const auto& entry : fs::directory_iterator(dir))
    BOOST_CHECK_MESSAGE(entry.path().filename().string().front() != '.', "left behind: " << entry.path());
  CheckpointReader reader(dir / "step_00000010");
  std::vector<float> got(small.values.size());
  reader.read_range("params", 0, int64_t(got.size()), got.data());
  BOOST_CHECK(ft::testing::exactly_equal(got, small.values));
}
