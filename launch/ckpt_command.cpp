// flowtrain ckpt list|verify|info RUN_DIR: inspect a run's checkpoints without
// starting MPI. RUN_DIR may be the run directory or its checkpoints/ folder.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>

#include "framework/checkpoint/checkpoint.h"
#include "framework/checkpoint/layout.h"
#include "framework/checkpoint/manifest.h"
#include "framework/core/check.h"
#include "launch/commands.h"
#include "launch/progress_line.h"

namespace ft::launch {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path checkpoints_dir_of(const std::string& run_dir) {
  const fs::path path(run_dir);
  if (fs::is_directory(path / "checkpoints")) return path / "checkpoints";
  if (!fs::is_directory(path)) FT_FAIL("{}: no such run directory", run_dir);
  return path;
}

std::string human_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = double(bytes);
  int unit = 0;
  for (; value >= 1024.0 && unit < 4; ++unit) value /= 1024.0;
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, units[unit]);
}

uint64_t total_bytes(const json& manifest) {
  uint64_t bytes = 0;
  for (const json& shard : manifest["shards"]) bytes += shard["bytes"].get<uint64_t>();
  return bytes;
}

struct Row {
  std::string name, step = "-", world = "-", size = "-", created = "-", status;
};

// One row per folder that looks like a checkpoint, committed or not.
std::optional<Row> describe(const fs::directory_entry& entry, bool check) {
  const std::string name = entry.path().filename().string();
  if (!entry.is_directory()) return std::nullopt;
  Row row;
  row.name = name;
  if (name.front() == '.' && name.ends_with(".tmp")) {
    row.status = "partial save (ignored)";
    return row;
  }
  const auto step = checkpoint::parse_step_folder(name);
  if (!step) return std::nullopt;
  row.step = std::to_string(*step);
  if (!fs::exists(entry.path() / checkpoint::kCommittedFile)) {
    row.status = "uncommitted (ignored)";
    return row;
  }
  try {
    const json manifest = checkpoint::read_manifest(entry.path());
    row.world = std::to_string(manifest["world_size"].get<int>());
    row.size = human_bytes(total_bytes(manifest));
    row.created = manifest.value("created", "-");
  } catch (const std::exception&) {
    // verify() below names the manifest problem.
  }
  const std::string problem = check ? checkpoint::verify(entry.path()) : "";
  row.status = !problem.empty() ? "BAD: " + problem : check ? "committed, verified" : "committed";
  return row;
}

void list_command(const std::string& run_dir, bool check) {
  const fs::path dir = checkpoints_dir_of(run_dir);
  std::vector<Row> rows;
  for (const auto& entry : fs::directory_iterator(dir))
    if (auto row = describe(entry, check)) rows.push_back(*row);
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.name > b.name; });
  const std::string latest = checkpoint::read_latest(dir);
  fmt::print("{:<2}{:<22}{:>10} {:>6} {:>11}  {:<21} {}\n", "", "folder", "step", "world", "size", "created (UTC)",
             "status");
  for (const Row& r : rows)
    fmt::print("{:<2}{:<22}{:>10} {:>6} {:>11}  {:<21} {}\n", r.name == latest ? "*" : "", r.name, r.step, r.world,
               r.size, r.created, r.status);
  if (latest.empty()) fmt::print("no `latest` in {}\n", dir.string());
  else fmt::print("* latest: {}{}\n", latest,
                  fs::exists(dir / latest / checkpoint::kCommittedFile) ? "" : " (NOT a committed folder)");
}

void verify_command(const std::string& run_dir) {
  const fs::path dir = checkpoints_dir_of(run_dir);
  const auto folders = checkpoint::committed_folders(dir);
  if (folders.empty()) FT_FAIL("{}: no committed checkpoints", dir.string());
  std::vector<std::string> problems;
  {
    ProgressLine progress(stderr, "verifying", {.unit = "checkpoints", .file_cadence = FileCadence::every_tenth});
    for (const auto& folder : folders) {
      problems.push_back(checkpoint::verify(folder.dir));
      progress.update(int64_t(problems.size()), int64_t(folders.size()));
    }
  }  // the progress line ends before the verdicts, which would break a terminal line
  std::string first_bad;
  int bad = 0;
  for (size_t i = 0; i < folders.size(); ++i) {
    fmt::print("{}: {}\n", folders[i].dir.filename().string(), problems[i].empty() ? "ok" : "BAD: " + problems[i]);
    if (!problems[i].empty() && bad++ == 0) first_bad = problems[i];
  }
  std::fflush(stdout);
  if (bad > 0) FT_FAIL("{} of {} checkpoints failed verification; first: {}", bad, folders.size(), first_bad);
}

// --step N, else the one `latest` names (when committed), else the newest committed.
fs::path chosen_checkpoint(const fs::path& dir, std::optional<int64_t> step) {
  if (step) {
    const fs::path path = dir / checkpoint::step_folder_name(*step);
    if (!fs::exists(path / checkpoint::kCommittedFile)) FT_FAIL("{}: not a committed checkpoint", path.string());
    return path;
  }
  const std::string latest = checkpoint::read_latest(dir);
  if (!latest.empty() && fs::exists(dir / latest / checkpoint::kCommittedFile)) return dir / latest;
  const auto committed = checkpoint::list_committed(dir);
  if (committed.empty()) FT_FAIL("{}: no committed checkpoints", dir.string());
  return committed.front().dir;
}

void info_command(const std::string& run_dir, std::optional<int64_t> step) {
  const fs::path dir = checkpoints_dir_of(run_dir);
  const checkpoint::CheckpointReader reader(chosen_checkpoint(dir, step));
  const json& m = reader.manifest();
  json vectors = json::object();
  for (const auto& [name, v] : m["vectors"].items())
    vectors[name] = {{"length", v["length"]}, {"dtype", v["dtype"]}, {"ranges", v["ranges"].size()}};
  const json summary = {{"dir", reader.dir().string()},
                        {"latest", reader.dir().filename().string() == checkpoint::read_latest(dir)},
                        {"format", m["format"]},
                        {"version", m["version"]},
                        {"step", reader.step()},
                        {"world_size", reader.world_size()},
                        {"created", m.value("created", "")},
                        {"bytes", total_bytes(m)},
                        {"shards", m["shards"]},
                        {"vectors", vectors},
                        {"small_tensors", m["small_tensors"]},
                        {"global_state", reader.global_state()}};
  fmt::print("{}\n", summary.dump(2));
}

}  // namespace

void register_ckpt_commands(CLI::App& app) {
  CLI::App* ckpt = app.add_subcommand("ckpt", "inspect and verify a run's checkpoints");
  ckpt->require_subcommand(1);
  auto run_dir = std::make_shared<std::string>();
  auto no_verify = std::make_shared<bool>(false);
  auto step = std::make_shared<int64_t>(-1);

  CLI::App* list = ckpt->add_subcommand("list", "table of checkpoints: step, world size, size, time, status");
  list->add_option("run_dir", *run_dir, "RUN_DIR or RUN_DIR/checkpoints")->required();
  list->add_flag("--no-verify", *no_verify, "skip reading every shard to check its checksum");
  list->callback([=] { list_command(*run_dir, !*no_verify); });

  CLI::App* verify = ckpt->add_subcommand("verify", "check every committed checkpoint (sizes, checksums)");
  verify->add_option("run_dir", *run_dir, "RUN_DIR or RUN_DIR/checkpoints")->required();
  verify->callback([=] { verify_command(*run_dir); });

  CLI::App* info = ckpt->add_subcommand("info", "manifest summary, vectors and global state as JSON");
  info->add_option("run_dir", *run_dir, "RUN_DIR or RUN_DIR/checkpoints")->required();
  info->add_option("--step", *step, "the step to describe (default: latest)");
  info->callback([=] { info_command(*run_dir, *step >= 0 ? std::optional<int64_t>(*step) : std::nullopt); });
}

}  // namespace ft::launch
