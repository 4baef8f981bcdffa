// save(): the collective write-and-commit protocol (see checkpoint.h). The ranks
// agree twice: after writing their shards (an all-gather of every rank's result,
// so each rank sees any rank's failure) and after rank 0's commit (a broadcast of
// its outcome). Every rank therefore throws, or returns, together.
#include <ctime>
#include <functional>

#include "framework/checkpoint/checkpoint.h"
#include "framework/io/durable_file.h"
#include "framework/checkpoint/failpoint.h"
#include "framework/checkpoint/layout.h"
#include "framework/checkpoint/manifest.h"
#include "framework/checkpoint/shard_file.h"
#include "framework/core/check.h"

namespace ft::checkpoint {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Every rank's string, in rank order: lengths first, then padded bytes.
std::vector<std::string> all_gather_strings(dist::Communicator& comm, const std::string& mine) {
  const int world = comm.size();
  const Device device = comm.device();
  Tensor length = Tensor::full({1}, double(mine.size()), DType::i64).to(device);
  Tensor lengths = Tensor::zeros({world}, DType::i64, device);
  comm.all_gather(length, lengths);
  const std::vector<int64_t> sizes = lengths.to(Device::cpu()).to_vector<int64_t>();
  const int64_t width = std::max<int64_t>(1, *std::max_element(sizes.begin(), sizes.end()));
  Tensor bytes = Tensor::zeros({width}, DType::u8);
  std::copy(mine.begin(), mine.end(), bytes.data<uint8_t>());
  bytes = bytes.to(device);
  Tensor gathered = Tensor::zeros({width * world}, DType::u8, device);
  comm.all_gather(bytes, gathered);
  const Tensor host = gathered.to(Device::cpu());
  const char* p = reinterpret_cast<const char*>(host.data<uint8_t>());
  std::vector<std::string> out;
  for (int r = 0; r < world; ++r) out.emplace_back(p + r * width, size_t(sizes[size_t(r)]));
  return out;
}

// Runs fn; its exception's message, or "" when it succeeded.
std::string attempt(const std::function<void()>& fn) {
  try {
    fn();
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

// The first non-empty problem, prefixed with its rank ("" when none).
std::string first_problem(const std::vector<std::string>& problems) {
  for (size_t r = 0; r < problems.size(); ++r)
    if (!problems[r].empty()) return fmt::format("rank {}: {}", r, problems[r]);
  return "";
}

[[noreturn]] void fail_save(int64_t step, const std::string& problem) {
  throw Error(fmt::format("checkpoint step {} not saved: {}", step, problem));
}

std::string validate_request(const SaveRequest& request) {
  if (request.checkpoints_dir.empty()) return "SaveRequest.checkpoints_dir is empty";
  if (request.step < 0) return fmt::format("negative step {}", request.step);
  for (const Slice& s : request.slices) {
    if (s.name.empty()) return "a slice without a name";
    if (s.length < 0 || s.begin < 0 || s.count < 0 || s.begin + s.count > s.length)
      return fmt::format("slice '{}': [{}, {}) is outside a vector of {} elements", s.name, s.begin,
                         s.begin + s.count, s.length);
    if (s.count > 0 && !s.data) return fmt::format("slice '{}' has no data", s.name);
  }
  return "";
}

void prepare_temp_folder(const fs::path& dir, const fs::path& temp) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) FT_FAIL("{}: cannot create: {}", dir.string(), error.message());
  io::remove_tree(temp);  // left by a save of the same step that was killed
  io::make_directory(temp);
  io::sync_directory(dir);
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

void add_ranges(json& vectors, const json& report, int rank) {
  for (const json& r : report["ranges"]) {
    const std::string name = r["name"];
    const int64_t length = r["length"];
    json& v = vectors[name];
    if (v.is_null()) v = {{"length", length}, {"dtype", "float32"}, {"ranges", json::array()}};
    if (v["length"].get<int64_t>() != length)
      FT_FAIL("vector '{}' has {} elements on rank {} but {} on another rank", name, length, rank,
              v["length"].get<int64_t>());
    if (r["count"].get<int64_t>() > 0)
      v["ranges"].push_back({{"rank", rank}, {"begin", r["begin"]}, {"count", r["count"]}, {"dataset", r["dataset"]}});
  }
}

json build_manifest(const SaveRequest& request, const std::vector<json>& reports) {
  json vectors = json::object(), shards = json::array(), states = json::array();
  for (size_t r = 0; r < reports.size(); ++r) {
    add_ranges(vectors, reports[r], int(r));
    shards.push_back({{"rank", r}, {"file", reports[r]["file"]}, {"bytes", reports[r]["bytes"]},
                      {"checksum", reports[r]["checksum"]}});
    states.push_back(reports[r]["rank_state"]);
  }
  json manifest = {{"format", kFormat},         {"version", kFormatVersion},
                   {"step", request.step},      {"world_size", reports.size()},
                   {"created", utc_now()},      {"checksum_algorithm", "xxh3_64"},
                   {"vectors", vectors},        {"small_tensors", reports[0]["small_tensors"]},
                   {"shards", shards},          {"global_state", request.global_state},
                   {"rank_state", states}};
  validate_manifest(manifest, "the new manifest");  // e.g. ranks that left part of a vector uncovered
  return manifest;
}

void write_committed_marker(const fs::path& folder) {
  io::WritableFile marker = io::WritableFile::create(folder / kCommittedFile);
  const std::string text = folder.filename().string() + "\n";
  marker.write_at(0, text.data(), text.size());
  marker.sync();
  marker.close();
  io::sync_directory(folder);
}

// The manifest-to-COMMITTED part of rank 0's commit. On failure nothing of the new
// step stays visible: the temporary or renamed folder is removed and a folder of the
// same step that was moved aside is put back.
void commit_folder(const SaveRequest& request, const json& manifest, const fs::path& temp, const Failpoint& fp) {
  const fs::path& dir = request.checkpoints_dir;
  const fs::path final_dir = dir / step_folder_name(request.step);
  // A folder of this step exists when a run resumed from an older step gets here
  // again; it is replaced. The displaced name ends in .tmp, so stale cleanup removes it.
  const fs::path displaced = dir / fmt::format(".{}.replaced.tmp", step_folder_name(request.step));
  try {
    io::write_file_atomically(temp / kManifestFile, manifest.dump(1), [&] { fp.hit("mid_manifest"); });
    fp.hit("after_manifest");
    io::remove_tree(displaced);
    if (fs::exists(final_dir)) io::rename_path(final_dir, displaced);
    io::rename_path(temp, final_dir);
    io::sync_directory(dir);
    fp.hit("after_folder_rename");
    write_committed_marker(final_dir);
    io::sync_directory(dir);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(temp, ignored);
    if (!fs::exists(final_dir / kCommittedFile)) fs::remove_all(final_dir, ignored);
    if (fs::exists(displaced) && !fs::exists(final_dir)) fs::rename(displaced, final_dir, ignored);
    throw;
  }
}

void commit(const SaveRequest& request, const std::vector<json>& reports, const fs::path& temp,
            const Failpoint& fp) {
  json manifest;
  try {
    manifest = build_manifest(request, reports);
  } catch (...) {
    io::remove_tree(temp);
    throw;
  }
  commit_folder(request, manifest, temp, fp);
  fp.hit("after_committed");
  // Committed from here on: a failure below is reported, but the checkpoint stays.
  replace_latest(request.checkpoints_dir, step_folder_name(request.step));
  const PruneResult pruned = prune(request.checkpoints_dir, request.keep, request.step);
  if (request.warn)
    for (const std::string& line : pruned.moved_aside) request.warn("damaged checkpoint " + line);
  remove_stale(request.checkpoints_dir);
}

json shard_report(const WrittenShard& shard, const SaveRequest& request, const std::string& error) {
  return {{"error", error},
          {"file", shard.file},
          {"bytes", shard.digest.bytes},
          {"checksum", shard.digest.checksum},
          {"ranges", shard.ranges},
          {"small_tensors", shard.small_tensors},
          {"rank_state", request.rank_state}};
}

// Step 2: every rank writes its shard; returns every rank's report (rank order).
std::vector<json> write_and_gather(const SaveRequest& request, dist::Communicator& comm, const fs::path& temp,
                                   const Failpoint& fp) {
  WrittenShard shard;
  const std::string error = attempt(
      [&] { shard = write_shard(temp, request, comm.rank(), comm.size(), comm.rank() == 0, fp); });
  fp.hit("before_gather");
  const std::vector<std::string> texts = all_gather_strings(comm, shard_report(shard, request, error).dump());
  if (comm.rank() == 0) fp.hit("after_gather");
  std::vector<json> reports;
  std::vector<std::string> errors;
  for (const std::string& text : texts) {
    reports.push_back(json::parse(text));
    errors.push_back(reports.back()["error"]);
  }
  const std::string problem = first_problem(errors);
  if (!problem.empty()) {
    if (comm.rank() == 0) attempt([&] { io::remove_tree(temp); });
    comm.barrier();  // the temporary folder is gone before any rank reports the failure
    fail_save(request.step, problem);
  }
  return reports;
}

}  // namespace

fs::path save(const SaveRequest& request, dist::Communicator& comm) {
  const Failpoint fp = Failpoint::from_env(comm.rank());
  const fs::path temp = request.checkpoints_dir / temp_folder_name(request.step);
  // Step 1: the request is valid everywhere and rank 0 has made the temporary folder.
  std::string problem = validate_request(request);
  if (problem.empty() && comm.rank() == 0) problem = attempt([&] { prepare_temp_folder(request.checkpoints_dir, temp); });
  problem = first_problem(all_gather_strings(comm, problem));
  if (!problem.empty()) fail_save(request.step, problem);

  const std::vector<json> reports = write_and_gather(request, comm, temp, fp);
  // Step 3: rank 0 commits; the others wait for its outcome.
  problem = comm.rank() == 0 ? attempt([&] { commit(request, reports, temp, fp); }) : "";
  problem = comm.broadcast_string(problem, 0);
  if (!problem.empty()) fail_save(request.step, "rank 0: " + problem);
  return request.checkpoints_dir / step_folder_name(request.step);
}

}  // namespace ft::checkpoint
