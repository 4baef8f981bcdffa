// An image folder: one subfolder per class (sorted names give the labels), PNG and
// JPEG files inside (recursively), decoded in parallel on all cores block by block.
// Only the file list is held in memory, never the images.
#pragma once
#include "datasets/image_source.h"

namespace ft::datasets {

class ImageFolderSource : public ImageSource {
 public:
  explicit ImageFolderSource(const std::filesystem::path& root);
  int64_t size() const override { return int64_t(files_.size()); }
  std::optional<ImageShape> native_shape() const override { return std::nullopt; }
  std::vector<std::string> class_names() const override { return class_names_; }
  nlohmann::json description() const override;
  void read(int64_t count, const ImageShape& target, SourceBlock& block) override;
  void skip(int64_t count) override;

 private:
  struct File {
    std::string relative_path;  // below the class folder
    int32_t label;
  };
  std::filesystem::path root_;
  std::vector<std::string> class_names_;
  std::vector<File> files_;
  int64_t next_ = 0;
};

}  // namespace ft::datasets
