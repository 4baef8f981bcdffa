#include "framework/checkpoint/layout.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <system_error>

#include "framework/io/durable_file.h"

namespace ft::checkpoint {

namespace fs = std::filesystem;

std::string step_folder_name(int64_t step) { return fmt::format("step_{:08d}", step); }

std::string temp_folder_name(int64_t step) { return fmt::format(".{}.tmp", step_folder_name(step)); }

std::string shard_file_name(int rank, int world_size) {
  return fmt::format("shard-{:05d}-of-{:05d}.h5", rank, world_size);
}

std::optional<int64_t> parse_step_folder(const std::string& name) {
  const std::string prefix = "step_";
  if (name.size() < prefix.size() + 8 || name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  const std::string digits = name.substr(prefix.size());
  if (digits.size() > 18 || !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); }))
    return std::nullopt;
  return std::stoll(digits);
}

void replace_latest(const fs::path& checkpoints_dir, const std::string& folder_name) {
  io::write_file_atomically(checkpoints_dir / kLatestFile, folder_name + "\n");
}

std::vector<StepFolder> committed_folders(const fs::path& checkpoints_dir) {
  std::vector<StepFolder> folders;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(checkpoints_dir, error)) {
    auto step = parse_step_folder(entry.path().filename().string());
    if (step && entry.is_directory() && fs::exists(entry.path() / kCommittedFile))
      folders.push_back({entry.path(), *step});
  }
  std::sort(folders.begin(), folders.end(), [](const auto& a, const auto& b) { return a.step > b.step; });
  return folders;
}

fs::path move_aside(const fs::path& folder) {
  fs::path target = folder;
  target += ".bad";
  for (int n = 2; fs::exists(target); ++n) {
    target = folder;
    target += fmt::format(".bad.{}", n);
  }
  io::rename_path(folder, target);
  io::sync_directory(folder.parent_path());
  return target;
}

PruneResult prune(const fs::path& checkpoints_dir, const KeepPolicy& keep, int64_t keep_step) {
  const int64_t keep_last = std::max<int64_t>(keep.keep_last, 1);
  PruneResult result;
  int64_t rank = 0;
  for (const StepFolder& folder : committed_folders(checkpoints_dir)) {
    if (folder.step != keep_step) {
      const std::string problem = verify(folder.dir, Verification::sizes);
      if (!problem.empty()) {
        const fs::path aside = move_aside(folder.dir);
        result.moved_aside.push_back(fmt::format("{}; moved aside to {}", problem, aside.filename().string()));
        continue;
      }
    }
    const bool recent = rank++ < keep_last;
    const bool milestone = keep.keep_every > 0 && folder.step % keep.keep_every == 0;
    if (recent || milestone || folder.step == keep_step) continue;
    // COMMITTED goes first: a crash in the middle of the removal then leaves an
    // uncommitted folder, which loading ignores, never a committed partial one.
    fs::remove(folder.dir / kCommittedFile);
    io::remove_tree(folder.dir);
    result.removed.push_back(folder.dir);
  }
  return result;
}

void remove_stale(const fs::path& checkpoints_dir) {
  std::error_code error;
  std::vector<fs::path> stale;
  for (const auto& entry : fs::directory_iterator(checkpoints_dir, error)) {
    const std::string name = entry.path().filename().string();
    const bool temp = name.size() > 5 && name.front() == '.' && name.ends_with(".tmp") && entry.is_directory();
    const bool uncommitted = parse_step_folder(name) && entry.is_directory() &&
                             !fs::exists(entry.path() / kCommittedFile);
    if (temp || uncommitted) stale.push_back(entry.path());
  }
  for (const fs::path& path : stale) io::remove_tree(path);
}

}  // namespace ft::checkpoint
