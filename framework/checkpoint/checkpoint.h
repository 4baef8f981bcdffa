// Sharded checkpoints committed by rank 0 (DESIGN.md section 6).
//
//   checkpoints/step_00012000/shard-00000-of-00004.h5 ... manifest.json COMMITTED
//   checkpoints/latest        (the committed folder's name, replaced atomically)
//
// Every rank writes its pieces of each flat f32 state vector into a temporary
// folder; rank 0 gathers the shards' sizes and checksums, writes manifest.json,
// renames the folder and writes COMMITTED. A folder without COMMITTED never
// existed as far as loading is concerned, so a job killed at any point of a save
// leaves the previous checkpoint usable. Loading reassembles vectors by global
// offsets, so a run on another number of ranks can resume (resharding).
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "framework/core/tensor.h"
#include "framework/dist/communicator.h"

namespace ft::checkpoint {

// A piece of one logical flat f32 state vector (parameters, "optimizer/exp_avg",
// "ema", ...) that this rank writes: elements [begin, begin+count) of a vector of
// `length` elements.
struct Slice {
  std::string name;
  int64_t length = 0;
  int64_t begin = 0;
  int64_t count = 0;
  const float* data = nullptr;
};

// keep_every > 0: steps divisible by it are never pruned.
struct KeepPolicy {
  int64_t keep_last = 3;
  int64_t keep_every = 0;
};

struct SaveRequest {
  std::filesystem::path checkpoints_dir;  // RUN_DIR/checkpoints
  int64_t step = 0;
  // This rank's pieces: ranks may hold overlapping or disjoint ranges; the union
  // over ranks must cover each vector.
  std::vector<Slice> slices;
  std::map<std::string, Tensor> small_tensors;  // rank 0's are written (module buffers etc.), any dtype/shape
  nlohmann::json rank_state;                    // this rank's own small state (RNG counters)
  nlohmann::json global_state;                  // rank 0's: step, loss scaler, sampler position, config, ...
  KeepPolicy keep;
  // Rank 0: told of a committed checkpoint that pruning found damaged and moved aside.
  std::function<void(const std::string&)> warn;
};

// Collective. Writes, verifies sizes and checksums, commits, updates `latest`,
// prunes per request.keep and removes stale temporary folders. A failure on any
// rank (e.g. ENOSPC) makes every rank throw ft::Error with the same one-line
// message naming the file and the OS error; the temporary folder is removed and
// the previous checkpoints and `latest` are left as they were. Returns the
// committed folder. FLOWTRAIN_CHECKPOINT_FAULT="<point>:<rank>" kills that rank
// at the named point (tests; see failpoint.h).
std::filesystem::path save(const SaveRequest& request, dist::Communicator& comm);

struct CheckpointInfo {
  std::filesystem::path dir;
  int64_t step = 0;
  int world_size = 0;
};
// Folders with COMMITTED and a readable manifest, newest (highest step) first;
// temporary and uncommitted folders are ignored. Empty when the folder is missing.
std::vector<CheckpointInfo> list_committed(const std::filesystem::path& checkpoints_dir);

// How deep verify() looks: the manifest and every shard's size, or also every
// shard's checksum (reads every byte).
enum class Verification { sizes, checksums };
// Empty when the checkpoint is intact; else a one-line problem naming the file
// (missing COMMITTED or shard, size or checksum mismatch, unreadable manifest).
std::string verify(const std::filesystem::path& checkpoint_dir, Verification depth = Verification::checksums);

// What find_latest_valid does with a damaged committed checkpoint: leave it (eval,
// sample: readers change nothing) or move it aside (a resuming trainer), so that
// pruning never counts it as one of the checkpoints to keep.
enum class OnDamaged { leave, move_aside };

// Collective: rank 0 walks the committed folders newest first (those whose
// manifest is unreadable included), verifies each, reports a bad one through
// warn() (moving it aside first when asked) and tries the previous one; every
// rank gets rank 0's choice. nullopt when none is usable.
std::optional<std::filesystem::path> find_latest_valid(const std::filesystem::path& checkpoints_dir,
                                                       dist::Communicator& comm,
                                                       const std::function<void(const std::string&)>& warn,
                                                       OnDamaged on_damaged = OnDamaged::leave);

// The folder `latest` names ("" when there is no readable `latest`).
std::string read_latest(const std::filesystem::path& checkpoints_dir);

class ShardFiles;

class CheckpointReader {
 public:
  explicit CheckpointReader(const std::filesystem::path& checkpoint_dir);  // reads and validates manifest.json
  ~CheckpointReader();
  CheckpointReader(CheckpointReader&&) noexcept;
  CheckpointReader& operator=(CheckpointReader&&) noexcept;

  const std::filesystem::path& dir() const { return dir_; }
  int64_t step() const;
  int world_size() const;
  const nlohmann::json& manifest() const { return manifest_; }
  const nlohmann::json& global_state() const;
  nlohmann::json rank_state(int rank) const;  // state saved by `rank` of the writing world (null if out of range)
  bool has(const std::string& name) const;
  int64_t length(const std::string& name) const;
  std::vector<std::string> vector_names() const;
  // Elements [begin, begin+count) of a vector, read from whichever shards hold
  // them: a run on R' ranks reads its ranges from a checkpoint written by R ranks.
  void read_range(const std::string& name, int64_t begin, int64_t count, float* out) const;
  // The same into a contiguous f32 tensor on any device: its numel() elements from
  // begin, staged through host memory when the tensor is not on the CPU.
  void read_range(const std::string& name, int64_t begin, Tensor& out) const;
  std::map<std::string, Tensor> small_tensors() const;

 private:
  const nlohmann::json& vector_entry(const std::string& name) const;

  std::filesystem::path dir_;
  nlohmann::json manifest_;
  std::unique_ptr<ShardFiles> files_;  // opened on first read, one handle per shard
};

}  // namespace ft::checkpoint
