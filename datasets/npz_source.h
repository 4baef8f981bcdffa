// ImageNet-downsampled npz files (Chrabaszcz et al. 2017): `data` uint8 [N, 3*R*R]
// in CHW order per row and `labels` [N], 1-based. Several files concatenate.
#pragma once
#include <memory>

#include "datasets/image_source.h"
#include "datasets/npz_archive.h"

namespace ft::datasets {

class NpzSource : public ImageSource {
 public:
  explicit NpzSource(const std::vector<std::filesystem::path>& paths);
  int64_t size() const override { return count_; }
  std::optional<ImageShape> native_shape() const override { return shape_; }
  nlohmann::json description() const override;
  void read(int64_t count, const ImageShape& target, SourceBlock& block) override;
  void skip(int64_t count) override;

 private:
  void open_next_file();
  void read_labels(int64_t count, int32_t* out);

  std::vector<std::filesystem::path> files_;
  ImageShape shape_;
  int64_t count_ = 0;
  size_t next_file_ = 0;
  int64_t left_in_current_ = 0;
  std::unique_ptr<NpyStream> data_, labels_;
  std::vector<uint8_t> rows_, native_;
};

}  // namespace ft::datasets
