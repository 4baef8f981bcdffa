// One rank's shard: an HDF5 file with one contiguous 1-D float32 dataset per slice
// (/slices/<i>, attribute "slice" = {"name","length","begin","count"} as JSON),
// rank 0's small tensors as raw bytes (/small/<i>, attribute "tensor" = {"name",
// "dtype","shape"}), and root attributes "flowtrain_shard" (format, step, rank,
// world size) and "rank_state" (JSON text). Plain HDF5, so h5py can inspect it.
#pragma once
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>

#include "framework/checkpoint/checkpoint.h"
#include "framework/io/durable_file.h"
#include "framework/checkpoint/failpoint.h"
#include "framework/io/hdf5_file.h"

namespace ft::checkpoint {

struct WrittenShard {
  std::string file;  // name inside the step folder
  io::FileDigest digest;
  nlohmann::json ranges = nlohmann::json::array();  // [{"name","length","begin","count","dataset"}]; dataset "" when count is 0
  nlohmann::json small_tensors = nlohmann::json::object();  // NAME: {"dtype","shape","dataset"}
};

// Writes this rank's shard into `folder` under a temporary name, fsyncs it,
// renames it to its final name and checksums it. Small tensors are written when
// with_small_tensors (rank 0). Throws ft::Error naming the file and the OS error.
WrittenShard write_shard(const std::filesystem::path& folder, const SaveRequest& request, int rank, int world_size,
                         bool with_small_tensors, const Failpoint& failpoint);

// Read side: shard files of one checkpoint, each opened on first use.
class ShardFiles {
 public:
  explicit ShardFiles(std::filesystem::path dir) : dir_(std::move(dir)) {}
  void read_floats(const std::string& file, const std::string& dataset, int64_t first, int64_t count, float* out);
  void read_bytes(const std::string& file, const std::string& dataset, void* out, size_t bytes);

 private:
  io::H5File& open(const std::string& file);
  std::filesystem::path dir_;
  std::map<std::string, io::H5File> files_;
};

}  // namespace ft::checkpoint
