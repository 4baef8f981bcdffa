// Finding and checking committed checkpoints: list_committed, verify,
// find_latest_valid, read_latest.
#include <algorithm>
#include <optional>
#include <system_error>

#include "framework/checkpoint/checkpoint.h"
#include "framework/io/durable_file.h"
#include "framework/checkpoint/layout.h"
#include "framework/checkpoint/manifest.h"
#include "framework/core/check.h"

namespace ft::checkpoint {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Problem {
  std::string file;  // inside the checkpoint folder
  std::string what;
};

std::optional<Problem> shard_problem(const fs::path& dir, const json& shard, Verification depth) {
  const std::string file = shard["file"];
  const fs::path path = dir / file;
  std::error_code error;
  const uint64_t bytes = fs::file_size(path, error);
  if (error) return Problem{file, fmt::format("missing or unreadable ({})", error.message())};
  const uint64_t expected = shard["bytes"];
  if (bytes != expected)
    return Problem{file, fmt::format("size mismatch (manifest {} bytes, file {} bytes)", expected, bytes)};
  if (depth == Verification::sizes) return std::nullopt;
  const io::FileDigest digest = io::digest_file(path);
  const std::string checksum = shard["checksum"];
  if (digest.checksum != checksum)
    return Problem{file, fmt::format("checksum mismatch (manifest {}, file {})", checksum, digest.checksum)};
  return std::nullopt;
}

// The first thing wrong with a checkpoint folder.
std::optional<Problem> find_problem(const fs::path& dir, Verification depth) {
  if (!fs::exists(dir / kCommittedFile)) return Problem{kCommittedFile, "missing (the save never finished)"};
  json manifest;
  try {
    manifest = read_manifest(dir);
  } catch (const std::exception& e) {
    return Problem{kManifestFile, fmt::format("unreadable: {}", e.what())};
  }
  const auto folder_step = parse_step_folder(dir.filename().string());
  if (folder_step && *folder_step != manifest["step"].get<int64_t>())
    return Problem{kManifestFile, fmt::format("names step {}, the folder step {}", manifest["step"].dump(), *folder_step)};
  for (const json& shard : manifest["shards"]) {
    try {
      if (auto problem = shard_problem(dir, shard, depth)) return problem;
    } catch (const std::exception& e) {  // e.g. a read error in the middle of the file
      return Problem{shard.value("file", "?"), e.what()};
    }
  }
  return std::nullopt;
}

}  // namespace

std::vector<CheckpointInfo> list_committed(const fs::path& checkpoints_dir) {
  std::vector<CheckpointInfo> found;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(checkpoints_dir, error)) {
    const auto step = parse_step_folder(entry.path().filename().string());
    if (!step || !entry.is_directory() || !fs::exists(entry.path() / kCommittedFile)) continue;
    try {
      const json manifest = read_manifest(entry.path());
      found.push_back({entry.path(), manifest["step"].get<int64_t>(), manifest["world_size"].get<int>()});
    } catch (const std::exception&) {
      // An unreadable manifest: not a usable checkpoint; verify() names the problem.
    }
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.step > b.step; });
  return found;
}

std::string verify(const fs::path& checkpoint_dir, Verification depth) {
  const auto problem = find_problem(checkpoint_dir, depth);
  if (!problem) return "";
  return fmt::format("{}: {}", (checkpoint_dir / problem->file).string(), problem->what);
}

std::optional<fs::path> find_latest_valid(const fs::path& checkpoints_dir, dist::Communicator& comm,
                                          const std::function<void(const std::string&)>& warn,
                                          OnDamaged on_damaged) {
  std::string message;  // rank 0's answer: "ok:" + folder ("ok:" alone: none), or "error:" + why
  if (comm.rank() == 0) {
    try {
      std::string choice;
      // Every folder with COMMITTED, not only those with a readable manifest: a
      // damaged manifest deserves a warning too.
      for (const StepFolder& info : committed_folders(checkpoints_dir)) {
        const auto problem = find_problem(info.dir, Verification::checksums);
        if (!problem) {
          choice = info.dir.string();
          break;
        }
        std::string where;
        if (on_damaged == OnDamaged::move_aside) where = "; moved aside to " + move_aside(info.dir).filename().string();
        if (warn)
          warn(fmt::format("checkpoint {}: {} {}{}; trying the previous one", info.dir.filename().string(),
                           problem->file, problem->what, where));
      }
      message = "ok:" + choice;
    } catch (const std::exception& e) {
      message = std::string("error:") + e.what();
    }
  }
  message = comm.broadcast_string(message, 0);
  if (message.starts_with("error:")) throw Error(message.substr(6));
  if (message.size() == 3) return std::nullopt;
  return fs::path(message.substr(3));
}

std::string read_latest(const fs::path& checkpoints_dir) {
  std::error_code error;
  if (!fs::exists(checkpoints_dir / kLatestFile, error)) return "";
  std::string text = io::read_text_file(checkpoints_dir / kLatestFile);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace ft::checkpoint
