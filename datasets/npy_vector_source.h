// Vectors from plain .npy files: 2-D [N, D] float32 or float64 (little-endian, C
// order; float64 is rounded to float32). Several files concatenate and must agree
// on D. Unlabelled. Another dtype, a Fortran-ordered array or a value that is not
// finite (NaN, inf, or a float64 beyond float32's range) is an error naming the file.
#pragma once
#include <memory>

#include "datasets/npz_archive.h"
#include "datasets/vector_source.h"

namespace ft::datasets {

class NpyVectorSource : public VectorSource {
 public:
  explicit NpyVectorSource(const std::vector<std::filesystem::path>& paths);
  int64_t size() const override { return count_; }
  int64_t features() const override { return features_; }
  nlohmann::json description() const override;
  void read(int64_t count, VectorBlock& block) override;
  void skip(int64_t count) override;

 private:
  void open_next_file();
  void read_rows(int64_t rows, float* out);

  std::vector<std::filesystem::path> files_;
  int64_t count_ = 0, features_ = 0;
  size_t next_file_ = 0;
  int64_t left_in_current_ = 0, row_in_current_ = 0;
  std::unique_ptr<NpyStream> data_;
  std::vector<uint8_t> raw_;
};

}  // namespace ft::datasets
