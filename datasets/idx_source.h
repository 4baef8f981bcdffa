// IDX files (MNIST, Fashion-MNIST), gzipped or not: an images file (ubyte, 3 dims)
// and optionally a labels file (ubyte, 1 dim), told apart by their headers.
#pragma once
#include <memory>

#include "datasets/gzip_stream.h"
#include "datasets/image_source.h"

namespace ft::datasets {

class IdxSource : public ImageSource {
 public:
  explicit IdxSource(const std::vector<std::filesystem::path>& paths);
  int64_t size() const override { return count_; }
  std::optional<ImageShape> native_shape() const override { return shape_; }
  nlohmann::json description() const override { return description_; }
  void read(int64_t count, const ImageShape& target, SourceBlock& block) override;
  void skip(int64_t count) override;

 private:
  std::unique_ptr<GzipStream> images_, labels_;
  ImageShape shape_;
  int64_t count_ = 0;
  nlohmann::json description_;
  std::vector<uint8_t> native_;
};

}  // namespace ft::datasets
