// manifest.json: what a committed checkpoint holds and where. Written last by rank
// 0; everything a loader needs (vector lengths, which shard holds which range,
// shard sizes and checksums, the ranks' states) is in it.
//
// {"format": "flowtrain-checkpoint", "version": 1, "step": S, "world_size": W,
//  "created": "2024-05-01T12:00:00Z", "checksum_algorithm": "xxh3_64",
//  "vectors": {NAME: {"length": N, "dtype": "float32",
//                     "ranges": [{"rank": r, "begin": b, "count": c, "dataset": "slices/0"}]}},
//  "small_tensors": {NAME: {"dtype": "float32", "shape": [..], "dataset": "small/0"}},   (in shard 0)
//  "shards": [{"rank": r, "file": "shard-00000-of-00004.h5", "bytes": B, "checksum": "16 hex"}],
//  "global_state": {...}, "rank_state": [{...} per rank]}
#pragma once
#include <nlohmann/json.hpp>

#include <filesystem>

namespace ft::checkpoint {

// Parses and validates checkpoint_dir/manifest.json; throws ft::Error naming the
// file and the first problem.
nlohmann::json read_manifest(const std::filesystem::path& checkpoint_dir);
// Throws ft::Error (prefixed with `where`) when the manifest is inconsistent:
// wrong format or version, shards not one per rank, a range outside its vector or
// in a missing shard, a vector whose ranges leave elements uncovered.
void validate_manifest(const nlohmann::json& manifest, const std::string& where);

}  // namespace ft::checkpoint
