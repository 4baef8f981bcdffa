// checkpoint_fault_driver MODE DIR [EXPECTED_STEP]: the MPI program the fault
// matrix (run_fault_matrix.py) runs at 2 ranks.
//   write DIR        saves step 10 with fault injection off, then step 20 with
//                    FLOWTRAIN_CHECKPOINT_FAULT as given: expected to be killed.
//   read DIR STEP    find_latest_valid must return STEP, `latest` must name a
//                    committed folder, and every vector must read back exactly.
//   resume DIR       saves steps 20 and 30 over what the killed job left: must
//                    succeed and leave no temporary or uncommitted folder.
// Exit 0 on success; otherwise a line on stderr and MPI_Abort (non-zero).
#include <fmt/core.h>

#include <cstdlib>
#include <string>

#include "framework/checkpoint/checkpoint.h"
#include "framework/core/check.h"
#include "tests/checkpoint/checkpoint_testing.h"

using namespace ft;
using namespace ft::checkpoint;
namespace fs = std::filesystem;

namespace {

const std::vector<std::pair<std::string, int64_t>> kVectors = {
    {"params", 50'001}, {"optimizer/exp_avg", 50'001}, {"optimizer/exp_avg_sq", 50'001}};

void save_step(const fs::path& dir, int64_t step, dist::Communicator& comm) {
  std::vector<std::vector<float>> values;
  SaveRequest request;
  request.checkpoints_dir = dir;
  request.step = step;
  request.keep = KeepPolicy{2, 0};
  for (size_t i = 0; i < kVectors.size(); ++i) {
    values.push_back(ft::testing::pattern_vector(int(i), step, kVectors[i].second));
    const auto [begin, count] = ft::testing::uneven_piece(kVectors[i].second, comm.rank(), comm.size());
    request.slices.push_back({kVectors[i].first, kVectors[i].second, begin, count, values.back().data() + begin});
  }
  request.rank_state = {{"rank", comm.rank()}, {"step", step}};
  request.global_state = {{"step", step}};
  request.small_tensors["counter"] = Tensor::from_vector<int64_t>({step}, {1});
  save(request, comm);
  if (comm.rank() == 0) fmt::print("saved step {}\n", step);
  std::fflush(stdout);
}

void write_mode(const fs::path& dir, dist::Communicator& comm) {
  const char* fault = std::getenv("FLOWTRAIN_CHECKPOINT_FAULT");
  const std::string armed = fault ? fault : "";
  ::unsetenv("FLOWTRAIN_CHECKPOINT_FAULT");
  save_step(dir, 10, comm);
  if (!armed.empty()) ::setenv("FLOWTRAIN_CHECKPOINT_FAULT", armed.c_str(), 1);
  save_step(dir, 20, comm);
}

void read_mode(const fs::path& dir, int64_t expected, dist::Communicator& comm) {
  auto chosen = find_latest_valid(dir, comm, [](const std::string& w) { fmt::print(stderr, "warning: {}\n", w); });
  FT_CHECK(chosen.has_value(), "no valid checkpoint in {}", dir.string());
  CheckpointReader reader(*chosen);
  FT_CHECK(reader.step() == expected, "find_latest_valid chose step {}, expected {}", reader.step(), expected);
  const std::string latest = read_latest(dir);
  FT_CHECK(fs::exists(dir / latest / "COMMITTED"), "latest names '{}', not a committed folder", latest);
  for (size_t i = 0; i < kVectors.size(); ++i) {
    const auto [begin, count] = ft::testing::uneven_piece(kVectors[i].second, comm.rank(), comm.size());
    std::vector<float> got(static_cast<size_t>(count));
    reader.read_range(kVectors[i].first, begin, count, got.data());
    const auto full = ft::testing::pattern_vector(int(i), expected, kVectors[i].second);
    FT_CHECK(ft::testing::exactly_equal(got, std::vector<float>(full.begin() + begin, full.begin() + begin + count)),
             "{} differs", kVectors[i].first);
  }
  FT_CHECK(reader.rank_state(comm.rank())["step"].get<int64_t>() == expected, "rank_state of the wrong step");
  FT_CHECK(reader.small_tensors().at("counter").to_vector<int64_t>()[0] == expected, "small tensor differs");
  if (comm.rank() == 0) fmt::print("read step {} (latest names {})\n", expected, latest);
}

void resume_mode(const fs::path& dir, dist::Communicator& comm) {
  save_step(dir, 20, comm);
  save_step(dir, 30, comm);
  comm.barrier();
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    FT_CHECK(name.front() != '.', "left behind: {}", name);
    FT_CHECK(name == "latest" || fs::exists(entry.path() / "COMMITTED"), "uncommitted folder left: {}", name);
  }
  FT_CHECK(read_latest(dir) == "step_00000030", "latest is {}", read_latest(dir));
  FT_CHECK(verify(dir / "step_00000030").empty(), "{}", verify(dir / "step_00000030"));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    auto comm = ft::testing::world();
    const std::string mode = argc > 2 ? argv[1] : "";
    if (mode == "write") write_mode(argv[2], *comm);
    else if (mode == "read" && argc > 3) read_mode(argv[2], std::stoll(argv[3]), *comm);
    else if (mode == "resume") resume_mode(argv[2], *comm);
    else FT_FAIL("usage: checkpoint_fault_driver write|read|resume DIR [EXPECTED_STEP]");
  } catch (const std::exception& e) {
    fmt::print(stderr, "checkpoint_fault_driver: {}\n", e.what());
    std::fflush(stderr);
    // The other ranks may be waiting in a collective: take the whole job down.
    dist::MpiWorld::instance().abort(1);
  }
  return 0;
}
