// Saves at the mpirun's world size and reads back: exact bytes for even, uneven,
// overlapping and tiny vectors; small tensors; rank and global state; pruning;
// `latest`; corruption, missing shards and leftovers of interrupted saves.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <fstream>

#include "framework/checkpoint/checkpoint.h"
#include "framework/checkpoint/layout.h"
#include "tests/checkpoint/checkpoint_testing.h"

using namespace ft;
using namespace ft::checkpoint;
using ft::testing::world;
namespace fs = std::filesystem;

namespace {

struct VectorSpec {
  std::string name;
  int tag;
  int64_t length;
  bool overlapping;  // ranks also write 10 elements on each side of their piece
};

const std::vector<VectorSpec> kVectors = {
    {"params", 1, 1000, false}, {"optimizer/exp_avg", 2, 777, false}, {"ema", 3, 5, false},
    {"overlap", 4, 501, true},  {"empty", 5, 0, false}};

// Full copies of every vector: each rank points its slices into them.
struct State {
  std::map<std::string, std::vector<float>> values;
  SaveRequest request;
};

State make_state(const fs::path& dir, int64_t step, const dist::Communicator& comm, KeepPolicy keep = {}) {
  State s;
  for (const VectorSpec& v : kVectors) s.values[v.name] = ft::testing::pattern_vector(v.tag, step, v.length);
  s.request.checkpoints_dir = dir;
  s.request.step = step;
  s.request.keep = keep;
  for (const VectorSpec& v : kVectors) {
    auto [begin, count] = ft::testing::uneven_piece(v.length, comm.rank(), comm.size());
    if (v.overlapping) {
      const int64_t end = std::min(v.length, begin + count + 10);
      begin = std::max<int64_t>(0, begin - 10);
      count = end - begin;
    }
    s.request.slices.push_back({v.name, v.length, begin, count, s.values[v.name].data() + begin});
  }
  s.request.rank_state = {{"rank", comm.rank()}, {"rng_offset", 1000 + comm.rank()}};
  s.request.global_state = {{"step", step}, {"loss_scale", 65536.0}, {"sampler", {{"epoch", 3}}}};
  s.request.small_tensors["buffers/mask"] = Tensor::from_vector<int64_t>({1, -2, 3, 4}, {2, 2});
  s.request.small_tensors["scale"] = Tensor::from_vector<float>({0.5f, float(step)}, {2});
  s.request.small_tensors["empty"] = Tensor::zeros({0, 3}, DType::u8);
  return s;
}

void check_reads_back(const fs::path& checkpoint, const State& s, int writers) {
  CheckpointReader reader(checkpoint);
  BOOST_CHECK_EQUAL(reader.step(), s.request.step);
  BOOST_CHECK_EQUAL(reader.world_size(), writers);
  for (const VectorSpec& v : kVectors) {
    BOOST_CHECK(reader.has(v.name));
    BOOST_CHECK_EQUAL(reader.length(v.name), v.length);
    std::vector<float> got(size_t(v.length), -1.0f);
    reader.read_range(v.name, 0, v.length, got.data());
    BOOST_CHECK_MESSAGE(ft::testing::exactly_equal(got, s.values.at(v.name)), v.name << " differs");
    if (v.length > 7) {  // an interior range crossing shard boundaries
      std::vector<float> part(size_t(v.length - 7));
      reader.read_range(v.name, 3, v.length - 7, part.data());
      BOOST_CHECK(ft::testing::exactly_equal(
          part, std::vector<float>(s.values.at(v.name).begin() + 3, s.values.at(v.name).end() - 4)));
    }
  }
  BOOST_CHECK_EQUAL(reader.global_state().dump(), s.request.global_state.dump());
  for (int r = 0; r < writers; ++r) BOOST_CHECK_EQUAL(reader.rank_state(r)["rng_offset"].get<int>(), 1000 + r);
  BOOST_CHECK(reader.rank_state(writers).is_null());
  auto small = reader.small_tensors();
  BOOST_CHECK_EQUAL(small.size(), 3u);
  BOOST_CHECK(small.at("buffers/mask").to_vector<int64_t>() == (std::vector<int64_t>{1, -2, 3, 4}));
  BOOST_CHECK(small.at("buffers/mask").shape() == (Shape{2, 2}));
  BOOST_CHECK(small.at("scale").to_vector<float>() == (std::vector<float>{0.5f, float(s.request.step)}));
  BOOST_CHECK(small.at("empty").shape() == (Shape{0, 3}) && small.at("empty").dtype() == DType::u8);
}

std::vector<int64_t> committed_steps(const fs::path& dir) {
  std::vector<int64_t> steps;
  for (const auto& info : list_committed(dir)) steps.push_back(info.step);
  return steps;
}

bool has_dot_entries(const fs::path& dir) {
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().front() == '.') return true;
  return false;
}

// Rank 0 changes a file; the others wait until it is done.
template <class Fn>
void on_rank0(dist::Communicator& comm, Fn&& fn) {
  if (comm.rank() == 0) fn();
  comm.barrier();
}

void flip_byte(const fs::path& file) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  const auto middle = std::streamoff(fs::file_size(file) / 2);
  f.seekg(middle);
  char c = 0;
  f.get(c);
  f.seekp(middle);
  f.put(char(c ^ 0x10));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(save_load)

BOOST_AUTO_TEST_CASE(round_trip_exact_bytes) {
  auto comm = world();
  const fs::path dir = ft::testing::shared_scratch(*comm, "roundtrip") / "checkpoints";
  State s = make_state(dir, 120, *comm);
  const fs::path saved = save(s.request, *comm);
  BOOST_CHECK_EQUAL(saved, dir / "step_00000120");
  BOOST_CHECK(fs::exists(saved / "COMMITTED"));
  BOOST_CHECK(fs::exists(saved / "manifest.json"));
  BOOST_CHECK_EQUAL(read_latest(dir), "step_00000120");
  BOOST_CHECK_EQUAL(verify(saved), "");
  check_reads_back(saved, s, comm->size());
  BOOST_CHECK(!has_dot_entries(dir));
  comm->barrier();
  on_rank0(*comm, [&] { fs::remove_all(dir.parent_path()); });
}

BOOST_AUTO_TEST_CASE(resave_of_the_same_step_replaces_it) {
  auto comm = world();
  const fs::path dir = ft::testing::shared_scratch(*comm, "resave");
  save(make_state(dir, 10, *comm).request, *comm);
  State again = make_state(dir, 10, *comm);
  for (auto& [name, values] : again.values)
    for (float& x : values) x += 1.0f;  // slices point into these: the new save writes the new values
  save(again.request, *comm);
  check_reads_back(dir / "step_00000010", again, comm->size());
  BOOST_CHECK(!has_dot_entries(dir));
  comm->barrier();
  on_rank0(*comm, [&] { fs::remove_all(dir); });
}

BOOST_AUTO_TEST_CASE(pruning_keeps_last_and_every) {
  auto comm = world();
  const fs::path dir = ft::testing::shared_scratch(*comm, "prune");
  for (int64_t step = 10; step <= 80; step += 10) {
    save(make_state(dir, step, *comm, KeepPolicy{2, 30}).request, *comm);
    const std::string latest = read_latest(dir);
    BOOST_CHECK_EQUAL(latest, fmt::format("step_{:08d}", step));
    BOOST_CHECK(fs::exists(dir / latest / "COMMITTED"));  // latest always names a committed folder
  }
  BOOST_CHECK(committed_steps(dir) == (std::vector<int64_t>{80, 70, 60, 30}));
  // keep_last below 1 still keeps the one just written
  save(make_state(dir, 90, *comm, KeepPolicy{0, 0}).request, *comm);
  BOOST_CHECK(committed_steps(dir) == (std::vector<int64_t>{90}));
  comm->barrier();
  on_rank0(*comm, [&] { fs::remove_all(dir); });
}

BOOST_AUTO_TEST_CASE(flipped_byte_is_detected_and_skipped) {
  auto comm = world();
  const fs::path dir = ft::testing::shared_scratch(*comm, "flip");
  save(make_state(dir, 10, *comm).request, *comm);
  save(make_state(dir, 20, *comm).request, *comm);
  const std::string shard = fmt::format("shard-{:05d}-of-{:05d}.h5", comm->size() - 1, comm->size());
  on_rank0(*comm, [&] { flip_byte(dir / "step_00000020" / shard); });
  const std::string problem = verify(dir / "step_00000020");
  BOOST_CHECK_MESSAGE(problem.find(shard) != std::string::npos && problem.find("checksum mismatch") != std::string::npos,
                      problem);
  std::vector<std::string> warnings;
  auto chosen = find_latest_valid(dir, *comm, [&](const std::string& w) { warnings.push_back(w); });
  BOOST_CHECK(chosen && *chosen == dir / "step_00000010");
  if (comm->rank() == 0) {
    BOOST_CHECK_EQUAL(warnings.size(), 1u);
    BOOST_CHECK_MESSAGE(!warnings.empty() && warnings[0].find("checkpoint step_00000020: " + shard + " checksum mismatch") == 0 &&
                            warnings[0].find("trying the previous one") != std::string::npos,
                        (warnings.empty() ? "" : warnings[0]));
  }
  // A truncated shard reads as a size mismatch.
  on_rank0(*comm, [&] { fs::resize_file(dir / "step_00000010" / shard, 100); });
  BOOST_CHECK(verify(dir / "step_00000010").find("size mismatch") != std::string::npos);
  BOOST_CHECK(!find_latest_valid(dir, *comm, {}));
  comm->barrier();
  on_rank0(*comm, [&] { fs::remove_all(dir); });
}

BOOST_AUTO_TEST_CASE(missing_shard_and_bad_manifest_are_detected) {
  auto comm = world();
  const fs::path dir = ft::testing::shared_scratch(*comm, "missing");
  for (int64_t step : {10, 20, 30}) save(make_state(dir, step, *comm).request, *comm);
  const std::string shard0 = fmt::format("shard-00000-of-{:05d}.h5", comm->size());
  on_rank0(*comm, [&] {
    fs::remove(dir / "step_00000030" / shard0);
    std::ofstream(dir / "step_00000020" / "manifest.json") << "{\"format\": \"flowtrain-checkpoint\", ";
  });
  BOOST_CHECK(verify(dir / "step_00000030").find(shard0 + ": missing") != std::string::npos);
  BOOST_CHECK(verify(dir / "step_00000020").find("manifest.json") != std::string::npos);
  std::vector<std::string> warnings;
  auto chosen = find_latest_valid(dir, *comm, [&](const std::string& w) { warnings.push_back(w); });
  BOOST_CHECK(chosen && *chosen == dir / "step_00000010");
  // Both are warned about; the unreadable manifest also drops step 20 from list_committed.
  if (comm->rank() == 0) {
    BOOST_CHECK_EQUAL(warnings.size(), 2u);
    BOOST_CHECK(warnings.size() == 2 && warnings[1].find("step_00000020: manifest.json unreadable") != std::string::npos);
  }
  BOOST_CHECK(committed_steps(dir) == (std::vector<int64_t>{30, 10}));
  comm->barrier();
  on_rank0(*comm, [&] { fs::remove_all(dir); });
}

BOOST_AUTO_TEST_CASE(damaged_checkpoints_are_moved_aside_and_never_kept_in_place_of_good_ones) {
  auto comm = world();
  const fs::path dir = ft::testing::shared_scratch(*comm, "aside");
  const KeepPolicy keep{2, 0};
  for (int64_t step : {10, 20}) save(make_state(dir, step, *comm, keep).request, *comm);
  // The newest manifest is cut short: a resuming trainer falls back to step 10 and
  // moves step 20 aside ...
  on_rank0(*comm, [&] { fs::resize_file(dir / "step_00000020" / "manifest.json", 30); });
  std::vector<std::string> warnings;
  auto warn = [&](const std::string& w) { warnings.push_back(w); };
  auto chosen = find_latest_valid(dir, *comm, warn, OnDamaged::move_aside);
  BOOST_CHECK(chosen && *chosen == dir / "step_00000010");
  if (comm->rank() == 0) {
    BOOST_CHECK_EQUAL(warnings.size(), 1u);
    BOOST_CHECK_MESSAGE(!warnings.empty() && warnings[0].find("moved aside to step_00000020.bad") != std::string::npos,
                        (warnings.empty() ? "" : warnings[0]));
  }
  comm->barrier();
  BOOST_CHECK(fs::is_directory(dir / "step_00000020.bad"));
  // ... so the next save, keeping two, keeps step 10 (counting the damaged step 20
  // as one of the two deleted the only other good checkpoint).
  save(make_state(dir, 30, *comm, keep).request, *comm);
  BOOST_CHECK(committed_steps(dir) == (std::vector<int64_t>{30, 10}));
  // Damage that pruning finds itself (a shard cut short after the commit): moved
  // aside, reported, not counted.
  const std::string shard0 = fmt::format("shard-00000-of-{:05d}.h5", comm->size());
  on_rank0(*comm, [&] { fs::resize_file(dir / "step_00000010" / shard0, 100); });
  State next = make_state(dir, 40, *comm, keep);
  warnings.clear();
  next.request.warn = warn;
  save(next.request, *comm);
  BOOST_CHECK(committed_steps(dir) == (std::vector<int64_t>{40, 30}));
  if (comm->rank() == 0) {
    BOOST_CHECK_EQUAL(warnings.size(), 1u);
    BOOST_CHECK_MESSAGE(!warnings.empty() && warnings[0].find(shard0 + ": size mismatch") != std::string::npos &&
                            warnings[0].find("moved aside to step_00000010.bad") != std::string::npos,
                        (warnings.empty() ? "" : warnings[0]));
  }
  comm->barrier();
  BOOST_CHECK(fs::is_directory(dir / "step_00000010.bad") && fs::is_directory(dir / "step_00000020.bad"));
  // Readers (eval, sample) change nothing: a damaged folder stays where it is.
  on_rank0(*comm, [&] { flip_byte(dir / "step_00000040" / shard0); });
  chosen = find_latest_valid(dir, *comm, {});
  BOOST_CHECK(chosen && *chosen == dir / "step_00000030");
  BOOST_CHECK(fs::exists(dir / "step_00000040" / "COMMITTED"));
  // A second damaged copy of a step gets a name of its own.
  if (comm->rank() == 0) {
    fs::create_directory(dir / "step_00000010");
    BOOST_CHECK_EQUAL(move_aside(dir / "step_00000010").filename().string(), "step_00000010.bad.2");
  }
  comm->barrier();
  on_rank0(*comm, [&] { fs::remove_all(dir); });
}

BOOST_AUTO_TEST_CASE(uncommitted_and_stale_folders_are_ignored_then_removed) {
  auto comm = world();
  const fs::path dir = ft::testing::shared_scratch(*comm, "stale");
  save(make_state(dir, 10, *comm).request, *comm);
  on_rank0(*comm, [&] {
    fs::copy(dir / "step_00000010", dir / "step_00000020", fs::copy_options::recursive);
    fs::remove(dir / "step_00000020" / "COMMITTED");  // killed between rename and COMMITTED
    fs::create_directories(dir / ".step_00000030.tmp");
    std::ofstream(dir / ".step_00000030.tmp" / "shard-00000-of-00001.h5") << "partial";
  });
  BOOST_CHECK(committed_steps(dir) == (std::vector<int64_t>{10}));
  BOOST_CHECK(verify(dir / "step_00000020").find("COMMITTED") != std::string::npos);
  auto chosen = find_latest_valid(dir, *comm, {});
  BOOST_CHECK(chosen && *chosen == dir / "step_00000010");
  save(make_state(dir, 40, *comm).request, *comm);
  BOOST_CHECK(!fs::exists(dir / "step_00000020"));
  BOOST_CHECK(!fs::exists(dir / ".step_00000030.tmp"));
  BOOST_CHECK(committed_steps(dir) == (std::vector<int64_t>{40, 10}));
  comm->barrier();
  on_rank0(*comm, [&] { fs::remove_all(dir); });
}

BOOST_AUTO_TEST_CASE(uncovered_vector_fails_on_every_rank) {
  auto comm = world();
  const fs::path dir = ft::testing::shared_scratch(*comm, "uncovered");
  save(make_state(dir, 10, *comm).request, *comm);
  State s = make_state(dir, 20, *comm);
  s.request.slices[0].count = 0;  // nobody writes "params"
  std::string message;
  try {
    save(s.request, *comm);
  } catch (const Error& e) {
    message = e.what();
  }
  BOOST_CHECK_MESSAGE(message.find("'params' element 0 is in no shard") != std::string::npos, message);
  BOOST_CHECK_EQUAL(read_latest(dir), "step_00000010");
  BOOST_CHECK(committed_steps(dir) == (std::vector<int64_t>{10}));
  BOOST_CHECK(!has_dot_entries(dir));
  comm->barrier();
  on_rank0(*comm, [&] { fs::remove_all(dir); });
}

BOOST_AUTO_TEST_CASE(bad_slice_and_bad_fault_spec_are_errors) {
  auto comm = world();
  const fs::path dir = ft::testing::shared_scratch(*comm, "invalid");
  State s = make_state(dir, 10, *comm);
  s.request.slices[0].begin = s.request.slices[0].length;  // outside the vector on every rank
  s.request.slices[0].count = 1;
  BOOST_CHECK_THROW(save(s.request, *comm), Error);
  ::setenv("FLOWTRAIN_CHECKPOINT_FAULT", "before_shrad:0", 1);
  BOOST_CHECK_THROW(save(make_state(dir, 10, *comm).request, *comm), Error);
  ::unsetenv("FLOWTRAIN_CHECKPOINT_FAULT");
  BOOST_CHECK(list_committed(dir).empty());
  comm->barrier();
  on_rank0(*comm, [&] { fs::remove_all(dir); });
}

BOOST_AUTO_TEST_SUITE_END()
