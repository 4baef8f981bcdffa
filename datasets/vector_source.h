// A source of float32 vectors for conversion into a vector set (convert_vectors.h),
// read front to back in blocks so a source of any size streams through bounded
// memory: npy arrays, csv tables (vector_file_sources.h) and the 2-D toy sets
// (toy_sets.h).
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ft::datasets {

struct VectorBlock {
  std::vector<float> features;  // count * D, row-major
  std::vector<int32_t> labels;  // count; -1 when unlabelled
};

class VectorSource {
 public:
  virtual ~VectorSource() = default;
  virtual int64_t size() const = 0;
  virtual int64_t features() const = 0;  // D
  virtual std::vector<std::string> class_names() const { return {}; }
  virtual nlohmann::json description() const = 0;
  // The next `count` vectors in source order, finite values only.
  virtual void read(int64_t count, VectorBlock& block) = 0;
  // Passes over the next `count` vectors (a process converting a later range of
  // shards starts there).
  virtual void skip(int64_t count) = 0;
};

// kind: npy or csv. label_column (csv only): the 0-based column of integer labels.
std::unique_ptr<VectorSource> open_vector_source(const std::string& kind, const std::vector<std::filesystem::path>& paths,
                                                 std::optional<int64_t> label_column = std::nullopt);

// Sizes the block for `count` vectors of `features` values each.
void prepare_vector_block(VectorBlock& block, int64_t count, int64_t features);

}  // namespace ft::datasets
