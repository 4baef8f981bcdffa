// The global sample order and each rank's share of it. The order of epoch e is a
// permutation drawn from (seed, e) alone, so it does not depend on the world size;
// global batch k is positions [k*B, (k+1)*B) of that order and rank r of R takes the
// r-th contiguous slice of it. The position (epoch, samples consumed) is global, so
// a run restored from it resumes mid-epoch exactly, at any world size.
#pragma once
#include <cstdint>
#include <vector>

namespace ft::datasets {

struct Position {
  int64_t epoch = 0;
  int64_t consumed = 0;  // samples of the epoch's order already taken by all ranks together
  bool operator==(const Position&) const = default;
};

struct SamplerOptions {
  int64_t dataset_size = 0;
  int64_t global_batch = 1;
  int64_t rank = 0, world_size = 1;
  uint64_t seed = 0;
  bool shuffle = true;
  bool drop_last = true;  // false: the epoch's last, smaller batch is kept (evaluation)
};

struct BatchPlan {
  Position position;        // where the global batch starts
  Position next;            // where the following one starts
  int64_t global_size = 0;  // samples in the global batch
  int64_t rank_begin = 0;   // this rank's first position within the epoch's order
  std::vector<int64_t> sample_ids;  // this rank's samples, in order
};

// Philox stream ids for per-sample randomness, keyed by purpose and epoch, apart
// from the streams models draw from.
enum class SampleStream : uint64_t { order = 0xD1, flip = 0xD2, noise = 0xD3 };
uint64_t sample_stream(SampleStream purpose, int64_t epoch);

class Sampler {
 public:
  explicit Sampler(SamplerOptions options);
  const SamplerOptions& options() const { return options_; }
  int64_t batches_per_epoch() const;
  // Moves a position at the end of an epoch to the start of the next.
  Position normalize(Position position) const;
  BatchPlan plan(Position position);

  static std::vector<int64_t> epoch_order(int64_t size, uint64_t seed, int64_t epoch, bool shuffle);

 private:
  SamplerOptions options_;
  int64_t cached_epoch_ = -1;
  std::vector<int64_t> order_;
};

}  // namespace ft::datasets
