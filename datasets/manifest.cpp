#include "datasets/manifest.h"

#include "framework/core/check.h"
#include "framework/io/durable_file.h"

namespace ft::datasets {

const char* set_kind_name(SetKind kind) { return kind == SetKind::vectors ? "vectors" : "images"; }

std::vector<int64_t> Manifest::sample_dims() const {
  if (is_vectors()) return {features};
  return {height, width, channels};
}

nlohmann::json Manifest::to_json() const {
  nlohmann::json shard_list = nlohmann::json::array();
  for (const ShardRecord& shard : shards)
    shard_list.push_back({{"file", shard.file}, {"count", shard.count}, {"bytes", shard.bytes},
                          {"checksum", shard.checksum}});
  nlohmann::json json = {{"format", kManifestFormat}};
  if (is_vectors()) {
    json["version"] = kVectorManifestVersion;
    json["kind"] = set_kind_name(kind);
    json["layout"] = "ND";
    json["features"] = features;
  } else {
    json["version"] = kManifestVersion;
    json["layout"] = "NHWC";
    json["height"] = height;
    json["width"] = width;
    json["channels"] = channels;
  }
  json["count"] = count;
  json["num_classes"] = num_classes;
  json["class_names"] = class_names;
  json["skipped_images"] = skipped_images;
  json["checksum_algorithm"] = io::kChecksumAlgorithm;
  json["source"] = source;
  json["shards"] = shard_list;
  return json;
}

namespace {

template <class T>
T field(const nlohmann::json& json, const char* name, const std::string& where) {
  if (!json.contains(name)) FT_FAIL("{}: missing field '{}'", where, name);
  try {
    return json.at(name).get<T>();
  } catch (const nlohmann::json::exception&) {
    FT_FAIL("{}: field '{}' has the wrong type", where, name);
  }
}

// Version 1 is an image set; version 2 names its kind.
SetKind read_kind(const nlohmann::json& json, const std::string& where) {
  int version = field<int>(json, "version", where);
  if (version == kManifestVersion) return SetKind::images;
  if (version != kVectorManifestVersion)
    FT_FAIL("{}: version {} is not supported (expected {} or {})", where, version, kManifestVersion,
            kVectorManifestVersion);
  std::string kind = field<std::string>(json, "kind", where);
  if (kind == "images") return SetKind::images;
  if (kind == "vectors") return SetKind::vectors;
  FT_FAIL("{}: kind '{}' is not images or vectors", where, kind);
}

void read_sample_shape(const nlohmann::json& json, const std::string& where, Manifest& manifest) {
  std::string layout = field<std::string>(json, "layout", where);
  if (manifest.is_vectors()) {
    if (layout != "ND") FT_FAIL("{}: layout '{}' of a vector set is not ND", where, layout);
    manifest.features = field<int64_t>(json, "features", where);
    if (manifest.features <= 0) FT_FAIL("{}: features {} is not positive", where, manifest.features);
    return;
  }
  if (layout != "NHWC") FT_FAIL("{}: layout '{}' is not NHWC", where, layout);
  manifest.height = field<int64_t>(json, "height", where);
  manifest.width = field<int64_t>(json, "width", where);
  manifest.channels = field<int64_t>(json, "channels", where);
  if (manifest.height <= 0 || manifest.width <= 0 || manifest.channels <= 0)
    FT_FAIL("{}: image shape {}x{}x{} is not positive", where, manifest.height, manifest.width, manifest.channels);
}

}  // namespace

Manifest Manifest::from_json(const nlohmann::json& json, const std::string& where) {
  if (!json.is_object()) FT_FAIL("{}: not a JSON object", where);
  std::string format = field<std::string>(json, "format", where);
  if (format != kManifestFormat) FT_FAIL("{}: format '{}' is not '{}'", where, format, kManifestFormat);
  Manifest manifest;
  manifest.kind = read_kind(json, where);
  std::string algorithm = field<std::string>(json, "checksum_algorithm", where);
  if (algorithm != io::kChecksumAlgorithm)
    FT_FAIL("{}: checksum algorithm '{}' is not {}", where, algorithm, io::kChecksumAlgorithm);
  read_sample_shape(json, where, manifest);
  manifest.count = field<int64_t>(json, "count", where);
  manifest.num_classes = field<int64_t>(json, "num_classes", where);
  manifest.class_names = field<std::vector<std::string>>(json, "class_names", where);
  manifest.skipped_images = field<int64_t>(json, "skipped_images", where);
  manifest.source = json.value("source", nlohmann::json());
  const nlohmann::json& shard_list = json.contains("shards") ? json.at("shards") : nlohmann::json();
  if (!shard_list.is_array() || shard_list.empty()) FT_FAIL("{}: 'shards' is missing or empty", where);
  int64_t total = 0;
  for (const nlohmann::json& entry : shard_list) {
    ShardRecord shard{field<std::string>(entry, "file", where), field<int64_t>(entry, "count", where),
                      field<int64_t>(entry, "bytes", where), field<std::string>(entry, "checksum", where)};
    if (shard.file.empty() || shard.file.find('/') != std::string::npos)
      FT_FAIL("{}: shard file name '{}' must be a plain name inside the folder", where, shard.file);
    if (shard.count < 0) FT_FAIL("{}: shard {} has a negative count", where, shard.file);
    total += shard.count;
    manifest.shards.push_back(std::move(shard));
  }
  if (total != manifest.count)
    FT_FAIL("{}: shard counts add up to {} but 'count' is {}", where, total, manifest.count);
  return manifest;
}

void write_manifest(const std::filesystem::path& dir, const Manifest& manifest) {
  io::write_file_atomically(dir / kManifestFile, manifest.to_json().dump(2) + "\n");
}

Manifest read_manifest(const std::filesystem::path& dir) {
  std::filesystem::path path = dir / kManifestFile;
  if (!std::filesystem::is_directory(dir)) FT_FAIL("{}: no such dataset folder", dir.string());
  if (!std::filesystem::exists(path))
    FT_FAIL("{}: missing (not a dataset, or an interrupted conversion)", path.string());
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(io::read_text_file(path));
  } catch (const nlohmann::json::parse_error& error) {
    FT_FAIL("{}: not valid JSON ({})", path.string(), error.what());
  }
  return Manifest::from_json(json, path.string());
}

}  // namespace ft::datasets
