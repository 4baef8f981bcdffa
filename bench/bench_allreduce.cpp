// MPI all-reduce bandwidth over message sizes 1 MiB .. 256 MiB (f32, sum), as the
// gradient reducer's buckets see it. Run under mpirun, e.g.
//   mpirun -np 2 ./build/bench/bench_allreduce [--max-mb 256] [--seconds 0.5]
// Rank 0 prints one JSON object: per size, the median time of one all-reduce,
// the algorithm bandwidth (bytes / time) and the bus bandwidth (algbw x
// 2(n-1)/n, what a ring moves per rank; comparable across rank counts, as in
// nccl-tests).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "framework/dist/communicator.h"

using namespace ft;

int main(int argc, char** argv) {
  double max_mb = 256, seconds_per_size = 0.5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--max-mb") max_mb = std::atof(argv[i + 1]);
    else if (flag == "--seconds") seconds_per_size = std::atof(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: %s [--max-mb N] [--seconds S]\n", argv[0]);
      return 2;
    }
  }
  try {
    auto comm = dist::make_mpi_communicator();
    const int size = comm->size();
    nlohmann::json results = nlohmann::json::array();
    for (double mb = 1; mb <= max_mb; mb *= 2) {
      const auto numel = int64_t(mb * 1024 * 1024 / sizeof(float));
      Tensor buffer = Tensor::full({numel}, 1.0);
      comm->all_reduce(buffer, dist::ReduceOp::sum);  // warm-up: connections, page faults
      // Every rank must run the same number of iterations: rank 0 decides from its
      // warm-up time and tells the others.
      comm->barrier();
      auto start = std::chrono::steady_clock::now();
      comm->all_reduce(buffer, dist::ReduceOp::sum);
      const double once = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const int iterations =
          int(comm->all_reduce_scalar(std::clamp(int(seconds_per_size / std::max(once, 1e-6)), 3, 200),
                                      dist::ReduceOp::max));
      std::vector<double> times;
      for (int it = 0; it < iterations; ++it) {
        comm->barrier();
        start = std::chrono::steady_clock::now();
        comm->all_reduce(buffer, dist::ReduceOp::sum);
        const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        // The slowest rank defines the collective's time.
        times.push_back(comm->all_reduce_scalar(t, dist::ReduceOp::max));
      }
      std::sort(times.begin(), times.end());
      const double median = times[times.size() / 2];
      const double bytes = double(numel) * sizeof(float);
      const double algbw = bytes / median / 1e9;
      results.push_back({{"megabytes", mb},
                         {"iterations", iterations},
                         {"median_seconds", median},
                         {"min_seconds", times.front()},
                         {"algbw_GBps", algbw},
                         {"busbw_GBps", algbw * 2.0 * (size - 1) / size}});
    }
    if (comm->rank() == 0) {
      nlohmann::json report = {{"benchmark", "mpi_all_reduce_f32_sum"},
                               {"ranks", size},
                               {"local_ranks", comm->local_size()},
                               {"results", results}};
      std::printf("%s\n", report.dump(2).c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_allreduce: %s\n", e.what());
    return 1;
  }
  return 0;
}
