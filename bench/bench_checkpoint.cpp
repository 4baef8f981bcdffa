// bench_checkpoint [--fraction F] [--dir DIR] [--no-dd]: checkpoint save and load
// throughput for tarflow-imagenet64's optimizer state (460,142,784 parameters;
// AdamW: params, exp_avg, exp_avg_sq = 3 f32 vectors, 5.5 GB), each rank writing
// its 1/R share; run under mpirun -np R. Load is timed twice: from the page cache
// (just written) and after asking the kernel to drop the shards' pages. Rank 0
// then times `dd oflag=direct` writing the same bytes, the disk's sequential
// write speed. Prints one JSON line; removes its files.
#include <fmt/core.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "framework/checkpoint/checkpoint.h"
#include "framework/io/durable_file.h"
#include "framework/dist/communicator.h"

namespace fs = std::filesystem;
using namespace ft;

namespace {

constexpr int64_t kParameters = 460'142'784;
const char* const kVectors[] = {"params", "optimizer/exp_avg", "optimizer/exp_avg_sq"};

struct Options {
  double fraction = 1.0;
  fs::path dir = "bench_checkpoint_tmp";
  bool dd = true;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--fraction" && i + 1 < argc) o.fraction = std::atof(argv[++i]);
    else if (arg == "--dir" && i + 1 < argc) o.dir = argv[++i];
    else if (arg == "--no-dd") o.dd = false;
  }
  return o;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Times fn between barriers, so the slowest rank sets the figure.
template <class Fn>
double timed(dist::Communicator& comm, Fn&& fn) {
  comm.barrier();
  const auto start = std::chrono::steady_clock::now();
  fn();
  comm.barrier();
  return seconds_since(start);
}

double dd_seconds(const fs::path& dir, uint64_t bytes) {
  const fs::path file = dir / "dd.bin";
  const uint64_t blocks = (bytes + (16u << 20) - 1) / (16u << 20);
  const std::string command =
      fmt::format("dd if=/dev/zero of={} bs=16M count={} oflag=direct status=none", file.string(), blocks);
  const auto start = std::chrono::steady_clock::now();
  const int status = std::system(command.c_str());
  const double seconds = seconds_since(start);
  fs::remove(file);
  return status == 0 ? seconds : -1.0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  auto comm = dist::make_mpi_communicator();
  const int rank = comm->rank(), world = comm->size();
  const int64_t length = int64_t(double(kParameters) * options.fraction);
  const int64_t begin = length * rank / world, count = length * (rank + 1) / world - begin;
  std::vector<std::vector<float>> state(3, std::vector<float>(size_t(count)));
  std::vector<std::string> sums;
  for (size_t v = 0; v < 3; ++v) {
    for (int64_t i = 0; i < count; ++i) state[v][size_t(i)] = float((begin + i) % 65521) * 0.001f + float(v);
    sums.push_back(io::checksum_hex(state[v].data(), state[v].size() * sizeof(float)));
  }
  checkpoint::SaveRequest request;
  request.checkpoints_dir = options.dir / "checkpoints";
  request.step = 1000;
  for (size_t v = 0; v < 3; ++v) request.slices.push_back({kVectors[v], length, begin, count, state[v].data()});

  fs::path saved;
  const double save_s = timed(*comm, [&] { saved = checkpoint::save(request, *comm); });
  auto load = [&] {
    checkpoint::CheckpointReader reader(saved);
    for (size_t v = 0; v < 3; ++v) reader.read_range(kVectors[v], begin, count, state[v].data());
  };
  const double warm_s = timed(*comm, load);
  for (const auto& entry : fs::directory_iterator(saved)) io::drop_cached_pages(entry.path());
  const double cold_s = timed(*comm, load);
  bool exact = true;
  for (size_t v = 0; v < 3; ++v)
    exact &= io::checksum_hex(state[v].data(), state[v].size() * sizeof(float)) == sums[v];
  exact = comm->all_reduce_scalar(exact ? 1.0 : 0.0, dist::ReduceOp::min) == 1.0;

  const double bytes = 3.0 * double(length) * sizeof(float);
  if (rank == 0) {
    const double dd_s = options.dd ? dd_seconds(options.dir, uint64_t(bytes)) : -1.0;
    fs::remove_all(options.dir);
    fmt::print("{{\"bench\": \"checkpoint\", \"ranks\": {}, \"fraction\": {}, \"elements_per_vector\": {}, "
               "\"bytes\": {:.0f}, \"save_s\": {:.3f}, \"save_GBps\": {:.3f}, \"load_cached_s\": {:.3f}, "
               "\"load_cached_GBps\": {:.3f}, \"load_dropped_s\": {:.3f}, \"load_dropped_GBps\": {:.3f}, "
               "\"dd_direct_s\": {:.3f}, \"dd_direct_GBps\": {:.3f}, \"exact\": {}}}\n",
               world, options.fraction, length, bytes, save_s, bytes / save_s / 1e9, warm_s, bytes / warm_s / 1e9,
               cold_s, bytes / cold_s / 1e9, dd_s, dd_s > 0 ? bytes / dd_s / 1e9 : -1.0, exact);
  }
  comm->barrier();
  return exact ? 0 : 1;
}
