// CheckpointReader: reassembles vectors by global offsets from whichever shards
// hold them, so the reading world's size need not match the writing one's.
#include <algorithm>

#include "framework/checkpoint/checkpoint.h"
#include "framework/checkpoint/manifest.h"
#include "framework/checkpoint/shard_file.h"
#include "framework/core/check.h"

namespace ft::checkpoint {

using nlohmann::json;

CheckpointReader::CheckpointReader(const std::filesystem::path& checkpoint_dir)
    : dir_(checkpoint_dir), manifest_(read_manifest(checkpoint_dir)), files_(std::make_unique<ShardFiles>(dir_)) {
  if (!manifest_.contains("global_state")) manifest_["global_state"] = json();
}

CheckpointReader::~CheckpointReader() = default;
CheckpointReader::CheckpointReader(CheckpointReader&&) noexcept = default;
CheckpointReader& CheckpointReader::operator=(CheckpointReader&&) noexcept = default;

int64_t CheckpointReader::step() const { return manifest_["step"].get<int64_t>(); }

int CheckpointReader::world_size() const { return manifest_["world_size"].get<int>(); }

const json& CheckpointReader::global_state() const { return manifest_["global_state"]; }

json CheckpointReader::rank_state(int rank) const {
  if (rank < 0 || rank >= world_size()) return json();
  return manifest_["rank_state"][size_t(rank)];
}

bool CheckpointReader::has(const std::string& name) const { return manifest_["vectors"].contains(name); }

const json& CheckpointReader::vector_entry(const std::string& name) const {
  if (!has(name)) FT_FAIL("{}: the checkpoint has no vector '{}'", dir_.string(), name);
  return manifest_["vectors"][name];
}

int64_t CheckpointReader::length(const std::string& name) const {
  return vector_entry(name)["length"].get<int64_t>();
}

std::vector<std::string> CheckpointReader::vector_names() const {
  std::vector<std::string> names;
  for (const auto& [name, entry] : manifest_["vectors"].items()) names.push_back(name);
  return names;
}

void CheckpointReader::read_range(const std::string& name, int64_t begin, int64_t count, float* out) const {
  const json& entry = vector_entry(name);
  const int64_t length = entry["length"].get<int64_t>();
  FT_CHECK(begin >= 0 && count >= 0 && begin + count <= length, "{}: [{}, {}) is outside vector '{}' of {} elements",
           dir_.string(), begin, begin + count, name, length);
  const int64_t end = begin + count;
  for (int64_t pos = begin; pos < end;) {
    // Of the ranges holding `pos` (ranks may overlap), the one reaching furthest:
    // fewest reads.
    const json* best = nullptr;
    int64_t best_end = pos;
    for (const json& r : entry["ranges"]) {
      const int64_t r_begin = r["begin"], r_end = r_begin + r["count"].get<int64_t>();
      if (r_begin <= pos && r_end > best_end) {
        best = &r;
        best_end = r_end;
      }
    }
    FT_CHECK(best != nullptr, "{}: element {} of '{}' is in no shard", dir_.string(), pos, name);
    const int64_t take = std::min(best_end, end) - pos;
    const std::string file = manifest_["shards"][(*best)["rank"].get<size_t>()]["file"];
    files_->read_floats(file, (*best)["dataset"], pos - (*best)["begin"].get<int64_t>(), take, out + (pos - begin));
    pos += take;
  }
}

void CheckpointReader::read_range(const std::string& name, int64_t begin, Tensor& out) const {
  FT_CHECK(out.dtype() == DType::f32 && out.is_contiguous(), "{}: vector '{}' is read into contiguous f32 tensors, "
           "not {} {}", dir_.string(), name, out.is_contiguous() ? "contiguous" : "strided", dtype_name(out.dtype()));
  if (out.device() == Device::cpu()) return read_range(name, begin, out.numel(), out.data<float>());
  Tensor staged = Tensor::empty(out.shape(), DType::f32, Device::cpu());
  read_range(name, begin, out.numel(), staged.data<float>());
  out.copy_(staged);
}

std::map<std::string, Tensor> CheckpointReader::small_tensors() const {
  std::map<std::string, Tensor> tensors;
  const std::string file = manifest_["shards"][0]["file"];
  for (const auto& [name, meta] : manifest_["small_tensors"].items()) {
    Tensor t = Tensor::empty(meta["shape"].get<Shape>(), dtype_from_name(meta["dtype"]));
    files_->read_bytes(file, meta["dataset"], t.raw_data(), t.nbytes());
    tensors.emplace(name, std::move(t));
  }
  return tensors;
}

}  // namespace ft::checkpoint
