// The training-time reader: batches of this rank's slice of each global batch, in
// the sampler's order, prefetched by background threads into a bounded queue.
// Each thread owns its HDF5 handles; batches come out in order whatever thread
// built them, and every random choice (order, flip, noise) is keyed by the
// sample's global position, so the output is the same for any thread count.
//
// On a vector set (Manifest::is_vectors()) a batch's `images` is f32 [n, D], the
// stored values exactly. Flips, uint8 output and dequantization mean nothing for
// vectors: asking for any of them there is an error naming the set.
#pragma once
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "datasets/dequantize.h"
#include "datasets/manifest.h"
#include "datasets/sampler.h"
#include "framework/core/tensor.h"

namespace ft::datasets {

class ShardHandles;

enum class ReaderOutput {
  float_nchw,  // f32 [n, C, H, W], dequantized; on a vector set f32 [n, D] as stored
  uint8_nhwc,  // u8 [n, H, W, C], the stored bytes (flipped when asked); images only
};

struct ReaderOptions {
  std::filesystem::path dir;
  int64_t global_batch = 64;
  int64_t rank = 0, world_size = 1;
  uint64_t seed = 0;
  bool shuffle = true;
  bool drop_last = true;
  bool flip = false;                            // images only
  // Images: unset means DequantizeOptions{}. Vector sets: must stay unset.
  std::optional<DequantizeOptions> dequantize;
  ReaderOutput output = ReaderOutput::float_nchw;
  int threads = 2;
  int queue_batches = 4;          // batches built ahead of the consumer
  // Hash every shard at open (catches silent corruption). A job turns it off and
  // hashes each shard once across its ranks instead (launch/training_data.h).
  bool verify_checksums = true;
  Position start;                 // where to resume
};

struct Batch {
  Tensor images;                   // see ReaderOutput; f32 [n, D] from a vector set
  Tensor labels;                   // i64 [n], -1 when unlabelled
  std::vector<int64_t> sample_ids; // dataset indices
  Position position;               // where this global batch starts
  Position next;                   // where the following one starts
  int64_t rank_begin = 0;          // this rank's first example's position in the epoch's order
};

class Reader {
 public:
  explicit Reader(ReaderOptions options);
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
  ~Reader();

  Batch next();
  // Where the next batch starts: save it and pass it back as `start` to resume.
  Position position() const;
  const Manifest& manifest() const { return manifest_; }
  int64_t batches_per_epoch() const { return sampler_.batches_per_epoch(); }

 private:
  struct Ticket {
    Batch batch;
    std::exception_ptr error;
  };
  void worker_loop();
  Batch build(const BatchPlan& plan, ShardHandles& handles) const;
  // Reads the plan's samples as stored, each at its slot in `out`.
  void read_samples(const BatchPlan& plan, ShardHandles& handles, uint8_t* out) const;
  Tensor image_output(const BatchPlan& plan, Tensor raw) const;

  ReaderOptions options_;
  Manifest manifest_;
  std::vector<int64_t> shard_first_;  // global index of each shard's first image
  std::vector<int32_t> labels_;
  Sampler sampler_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  Position planned_;         // where the next ticket starts
  uint64_t next_ticket_ = 0, next_to_deliver_ = 0;
  std::map<uint64_t, Ticket> ready_;
  Position delivered_;
  std::vector<std::thread> workers_;
};

}  // namespace ft::datasets
