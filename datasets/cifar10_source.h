// CIFAR-10 binary batches: records of 1 label byte + 3072 bytes (32x32, CHW).
// A folder argument means every *.bin in it, sorted; class names come from
// batches.meta.txt beside the batches when present.
#pragma once
#include <cstdio>
#include <memory>

#include "datasets/image_source.h"

namespace ft::datasets {

class Cifar10Source : public ImageSource {
 public:
  explicit Cifar10Source(const std::vector<std::filesystem::path>& paths);
  int64_t size() const override { return count_; }
  std::optional<ImageShape> native_shape() const override { return ImageShape{32, 32, 3}; }
  std::vector<std::string> class_names() const override { return class_names_; }
  nlohmann::json description() const override;
  void read(int64_t count, const ImageShape& target, SourceBlock& block) override;
  void skip(int64_t count) override;

 private:
  void open_next_file();

  std::vector<std::filesystem::path> files_;
  std::vector<std::string> class_names_;
  int64_t count_ = 0;
  size_t next_file_ = 0;
  std::unique_ptr<FILE, int (*)(FILE*)> current_{nullptr, std::fclose};
  int64_t left_in_current_ = 0;
  std::vector<uint8_t> records_, native_;
};

}  // namespace ft::datasets
