// Vectors from csv files: one row of comma-separated numbers per line, blank lines
// skipped, an optional header row (a first line none of whose cells is a number),
// and optionally one column of integer labels (>= 0). Columns count from 1, as in
// the errors: a cell that is not a finite number, a label that is not a
// non-negative integer or a row of the wrong length fails naming file:line:column.
// Every file is parsed once when the source opens, so a bad cell fails before any
// shard is written; the conversion then parses it again as it streams.
#pragma once
#include <fstream>
#include <memory>
#include <optional>

#include "datasets/vector_source.h"

namespace ft::datasets {

class CsvVectorSource : public VectorSource {
 public:
  CsvVectorSource(const std::vector<std::filesystem::path>& paths, std::optional<int64_t> label_column);
  int64_t size() const override { return count_; }
  int64_t features() const override { return features_; }
  nlohmann::json description() const override;
  void read(int64_t count, VectorBlock& block) override;
  void skip(int64_t count) override;

 private:
  struct Cursor {
    size_t file = 0;
    std::ifstream stream;
    int64_t line = 0;
    bool at_file_start = true;  // no non-blank line read yet: it may be a header
  };
  // The next data row into features/label; false at the end of the last file.
  bool next_row(Cursor& cursor, float* features, int32_t& label) const;
  void parse_row(const std::string& text, const std::string& file, int64_t line, float* features,
                 int32_t& label) const;  // throws naming file:line:column

  std::vector<std::filesystem::path> files_;
  std::optional<int64_t> label_column_;  // 1-based
  int64_t columns_ = 0, features_ = 0, count_ = 0;
  std::unique_ptr<Cursor> cursor_;
};

}  // namespace ft::datasets
