// manifest.json: the table of contents of a sharded image set. It is written last,
// so a folder without one is an incomplete conversion.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ft::datasets {

inline constexpr const char* kManifestFormat = "flowtrain-imageset";
inline constexpr int kManifestVersion = 1;
inline constexpr const char* kManifestFile = "manifest.json";

struct ShardRecord {
  std::string file;      // relative to the dataset folder
  int64_t count = 0;     // images in the shard
  int64_t bytes = 0;     // file size
  std::string checksum;  // io::kChecksumAlgorithm of the file, see framework/io/durable_file.h
};

struct Manifest {
  int64_t height = 0, width = 0, channels = 0;
  int64_t count = 0;  // images in all shards
  int64_t num_classes = 0;  // 0 when unlabelled
  std::vector<std::string> class_names;  // may be empty even when labelled
  int64_t skipped_images = 0;  // source images that did not decode
  nlohmann::json source;       // where the images came from
  std::vector<ShardRecord> shards;

  int64_t image_bytes() const { return height * width * channels; }
  nlohmann::json to_json() const;
  static Manifest from_json(const nlohmann::json& json, const std::string& where);
};

void write_manifest(const std::filesystem::path& dir, const Manifest& manifest);
// Reads and validates DIR/manifest.json; errors name the file and the bad field.
Manifest read_manifest(const std::filesystem::path& dir);

}  // namespace ft::datasets
