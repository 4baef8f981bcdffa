#include "framework/checkpoint/manifest.h"

#include <algorithm>
#include <vector>

#include "framework/io/durable_file.h"
#include "framework/checkpoint/layout.h"
#include "framework/core/check.h"

namespace ft::checkpoint {

namespace {

using nlohmann::json;

void validate_header(const json& m, const std::string& where) {
  if (!m.is_object() || m.value("format", "") != kFormat) FT_FAIL("{}: not a {} manifest", where, kFormat);
  if (m.value("version", 0) != kFormatVersion)
    FT_FAIL("{}: version {} (this build reads version {})", where, m.value("version", 0), kFormatVersion);
  if (!m.contains("step") || !m["step"].is_number_integer()) FT_FAIL("{}: no integer 'step'", where);
  if (m.value("world_size", 0) < 1) FT_FAIL("{}: no positive 'world_size'", where);
}

void validate_shards(const json& m, const std::string& where) {
  const int world = m["world_size"].get<int>();
  const json& shards = m.value("shards", json());
  if (!shards.is_array() || int(shards.size()) != world)
    FT_FAIL("{}: 'shards' must list one shard per rank ({})", where, world);
  for (int r = 0; r < world; ++r) {
    const json& s = shards[size_t(r)];
    if (s.value("rank", -1) != r || !s.contains("file") || !s.contains("bytes") || !s.contains("checksum"))
      FT_FAIL("{}: shard entry {} lacks rank/file/bytes/checksum", where, r);
  }
  const json& states = m.value("rank_state", json());
  if (!states.is_array() || int(states.size()) != world)
    FT_FAIL("{}: 'rank_state' must hold one entry per rank ({})", where, world);
}

struct Range {
  int64_t begin = 0, end = 0;
};

// The first element no range covers, or length when all are covered.
int64_t first_uncovered(std::vector<Range> ranges, int64_t length) {
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  int64_t covered = 0;
  for (const Range& r : ranges) {
    if (r.begin > covered) return covered;
    covered = std::max(covered, r.end);
  }
  return std::min(covered, length);
}

void validate_vector(const std::string& name, const json& v, int world, const std::string& where) {
  const int64_t length = v.value("length", int64_t(-1));
  if (length < 0) FT_FAIL("{}: vector '{}' has no length", where, name);
  if (v.value("dtype", "") != "float32") FT_FAIL("{}: vector '{}' is not float32", where, name);
  std::vector<Range> ranges;
  for (const json& r : v.value("ranges", json::array())) {
    const int64_t begin = r.value("begin", int64_t(-1)), count = r.value("count", int64_t(-1));
    const int rank = r.value("rank", -1);
    if (begin < 0 || count <= 0 || begin + count > length || rank < 0 || rank >= world || !r.contains("dataset"))
      FT_FAIL("{}: vector '{}' has a bad range {}", where, name, r.dump());
    ranges.push_back({begin, begin + count});
  }
  const int64_t gap = first_uncovered(ranges, length);
  if (gap < length) FT_FAIL("{}: vector '{}' element {} is in no shard", where, name, gap);
}

}  // namespace

void validate_manifest(const json& manifest, const std::string& where) {
  validate_header(manifest, where);
  validate_shards(manifest, where);
  const json& vectors = manifest.value("vectors", json());
  if (!vectors.is_object()) FT_FAIL("{}: no 'vectors' object", where);
  const int world = manifest["world_size"].get<int>();
  for (const auto& [name, v] : vectors.items()) validate_vector(name, v, world, where);
  if (!manifest.value("small_tensors", json()).is_object()) FT_FAIL("{}: no 'small_tensors' object", where);
}

json read_manifest(const std::filesystem::path& checkpoint_dir) {
  const std::filesystem::path file = checkpoint_dir / kManifestFile;
  const std::string text = io::read_text_file(file);
  json manifest = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (manifest.is_discarded()) FT_FAIL("{}: unreadable manifest (not valid JSON)", file.string());
  try {
    validate_manifest(manifest, file.string());
  } catch (const json::exception& e) {  // a field of the wrong JSON type
    FT_FAIL("{}: malformed manifest ({})", file.string(), e.what());
  }
  return manifest;
}

}  // namespace ft::checkpoint
