// manifest.json: the table of contents of a sharded set of images or of vectors. It
// is written last, so a folder without one is an incomplete conversion.
//
// Version 1 describes image sets (the kind is implied); version 2 adds `kind`
// ("images" or "vectors") and, for vectors, `features` (D) with layout "ND". Image
// sets are still written as version 1, byte for byte what older builds wrote, so
// they stay readable everywhere; only vector sets need version 2, which older
// builds reject by its number.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ft::datasets {

inline constexpr const char* kManifestFormat = "flowtrain-imageset";
inline constexpr int kManifestVersion = 1;        // image sets
inline constexpr int kVectorManifestVersion = 2;  // adds kind and features; vector sets
inline constexpr const char* kManifestFile = "manifest.json";

struct ShardRecord {
  std::string file;      // relative to the dataset folder
  int64_t count = 0;     // samples (images or vectors) in the shard
  int64_t bytes = 0;     // file size
  std::string checksum;  // io::kChecksumAlgorithm of the file, see framework/io/durable_file.h
};

// What the shards hold: `images` uint8 [N, H, W, C] or `features` float32 [N, D].
enum class SetKind { images, vectors };
const char* set_kind_name(SetKind kind);

struct Manifest {
  SetKind kind = SetKind::images;
  int64_t height = 0, width = 0, channels = 0;  // image sets; 0 for vector sets
  int64_t features = 0;                         // vector sets: D; 0 for image sets
  int64_t count = 0;  // samples (images or vectors) in all shards
  int64_t num_classes = 0;  // 0 when unlabelled
  std::vector<std::string> class_names;  // may be empty even when labelled
  int64_t skipped_images = 0;  // source images that did not decode (0 for vector sets)
  nlohmann::json source;       // where the samples came from
  std::vector<ShardRecord> shards;

  bool is_vectors() const { return kind == SetKind::vectors; }
  int64_t image_bytes() const { return height * width * channels; }
  // Bytes of one stored sample: H*W*C (uint8) or 4*D (float32).
  int64_t sample_bytes() const { return is_vectors() ? features * int64_t(sizeof(float)) : image_bytes(); }
  // One sample's stored dimensions: {H, W, C} or {D}.
  std::vector<int64_t> sample_dims() const;
  nlohmann::json to_json() const;
  static Manifest from_json(const nlohmann::json& json, const std::string& where);
};

void write_manifest(const std::filesystem::path& dir, const Manifest& manifest);
// Reads and validates DIR/manifest.json; errors name the file and the bad field.
Manifest read_manifest(const std::filesystem::path& dir);

}  // namespace ft::datasets
