// Helpers shared by the checkpoint tests (and the fault driver): the world
// communicator, a scratch folder every rank agrees on, and vectors whose values
// are exact functions of (tag, step, index), so any misplaced element shows.
#pragma once
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "framework/checkpoint/checkpoint.h"
#include "framework/dist/communicator.h"
#include "tests/support/scratch_dir.h"

namespace ft::testing {

inline std::shared_ptr<dist::Communicator> world() {
  static std::shared_ptr<dist::Communicator> comm = dist::make_mpi_communicator();
  return comm;
}

// Values in [-2000, 2093], exactly representable: compared bit for bit.
inline float pattern(int tag, int64_t step, int64_t i) {
  return float((i * 7 + tag * 131 + step * 17) % 4093) - 2000.25f;
}

inline std::vector<float> pattern_vector(int tag, int64_t step, int64_t length) {
  std::vector<float> v(size_t(length), 0.0f);
  for (int64_t i = 0; i < length; ++i) v[size_t(i)] = pattern(tag, step, i);
  return v;
}

// Piece r of `parts` pieces of [0, length), with piece sizes proportional to r+1
// (uneven on purpose; some are empty when length is small).
inline std::pair<int64_t, int64_t> uneven_piece(int64_t length, int r, int parts) {
  const int64_t total_weight = int64_t(parts) * (parts + 1) / 2;
  auto edge = [&](int k) { return length * (int64_t(k) * (k + 1) / 2) / total_weight; };
  return {edge(r), edge(r + 1) - edge(r)};
}

// A fresh folder under `base` (default: the tests' scratch root), named by rank 0
// and made known to every rank; the caller removes it.
inline std::filesystem::path shared_scratch(dist::Communicator& comm, const std::string& label,
                                            std::filesystem::path base = {}) {
  if (base.empty()) base = scratch_root();
  std::string name;
  if (comm.rank() == 0) {
    static int counter = 0;
    name = (base / ("flowtrain-ckpt-" + label + "-" + std::to_string(::getpid()) + "-" +
                    std::to_string(counter++))).string();
    std::filesystem::remove_all(name);
    std::filesystem::create_directories(name);
  }
  name = comm.broadcast_string(name, 0);
  return name;
}

inline bool exactly_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](float x, float y) {
           return std::memcmp(&x, &y, sizeof x) == 0;
         });
}

}  // namespace ft::testing
