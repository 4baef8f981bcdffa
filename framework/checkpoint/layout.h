// Names inside a checkpoints folder and the housekeeping done on it: `latest`,
// pruning and the removal of what interrupted saves left behind.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "framework/checkpoint/checkpoint.h"

namespace ft::checkpoint {

inline constexpr const char* kManifestFile = "manifest.json";
inline constexpr const char* kCommittedFile = "COMMITTED";
inline constexpr const char* kLatestFile = "latest";
inline constexpr const char* kFormat = "flowtrain-checkpoint";
inline constexpr int kFormatVersion = 1;

std::string step_folder_name(int64_t step);  // step_00012000
std::string temp_folder_name(int64_t step);  // .step_00012000.tmp
std::string shard_file_name(int rank, int world_size);  // shard-00001-of-00004.h5
// The step of a committed-style folder name; nullopt for anything else.
std::optional<int64_t> parse_step_folder(const std::string& name);

struct StepFolder {
  std::filesystem::path dir;
  int64_t step = 0;
};
// Step folders that carry COMMITTED, highest step first. Manifests are not read:
// pruning must clear, and loading must report, committed folders whose manifest
// got damaged.
std::vector<StepFolder> committed_folders(const std::filesystem::path& checkpoints_dir);

// Replaces `latest` atomically (temp file + rename) with the folder's name.
void replace_latest(const std::filesystem::path& checkpoints_dir, const std::string& folder_name);

// Renames a damaged step folder to "<name>.bad" (".bad.2", ... when taken), which
// no listing parses as a step, so it is neither loaded nor counted nor pruned: the
// user decides what to do with it. Returns the new path.
std::filesystem::path move_aside(const std::filesystem::path& folder);

struct PruneResult {
  std::vector<std::filesystem::path> removed;
  std::vector<std::string> moved_aside;  // one line per damaged folder: its problem and new name
};
// Removes committed folders that the policy does not keep. The newest keep_last
// (at least one) and multiples of keep_every stay, and so does `keep_step` (the
// one just committed, which `latest` names) whatever its rank among the steps.
// A folder that fails verify(sizes) is moved aside first and not counted, so a
// damaged checkpoint never takes the place of a good one.
PruneResult prune(const std::filesystem::path& checkpoints_dir, const KeepPolicy& keep, int64_t keep_step);
// Removes temporary folders (".*.tmp") and step folders without COMMITTED: what a
// save killed part way leaves behind. Only rank 0 saves, so none is in use.
void remove_stale(const std::filesystem::path& checkpoints_dir);

}  // namespace ft::checkpoint
