// A source of images for conversion, read front to back in blocks so a dataset of
// any size streams through bounded memory.
#pragma once
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "datasets/shard_writer.h"

namespace ft::datasets {

struct SourceBlock {
  std::vector<uint8_t> pixels;      // count * target.bytes(), NHWC
  std::vector<int32_t> labels;      // -1 when unlabelled
  std::vector<std::string> errors;  // per image: empty when it decoded, else why not
};

class ImageSource {
 public:
  virtual ~ImageSource() = default;
  virtual int64_t size() const = 0;
  // The shape every image has, for formats that fix one (IDX, CIFAR-10, npz).
  virtual std::optional<ImageShape> native_shape() const = 0;
  virtual std::vector<std::string> class_names() const { return {}; }
  virtual nlohmann::json description() const = 0;
  // The next `count` images in source order, fit to `target`.
  virtual void read(int64_t count, const ImageShape& target, SourceBlock& block) = 0;
  // Passes over the next `count` images without decoding them where the format allows
  // (a process converting a later range of shards starts there).
  virtual void skip(int64_t count) = 0;
};

// Reads and drops `bytes` of a stream that cannot seek (gzip, a deflated zip entry).
template <class Stream>
void discard_bytes(Stream& stream, int64_t bytes) {
  std::vector<uint8_t> scratch(size_t(std::min<int64_t>(bytes, int64_t(1) << 20)));
  for (int64_t left = bytes; left > 0; left -= int64_t(scratch.size())) {
    if (left < int64_t(scratch.size())) scratch.resize(size_t(left));
    stream.read_exact(scratch.data(), scratch.size());
  }
}

// kind: imagefolder, idx, cifar10 or npz.
std::unique_ptr<ImageSource> open_image_source(const std::string& kind, const std::vector<std::filesystem::path>& paths);

// Fills block with `count` images of a fixed native shape given as NHWC bytes,
// resizing and converting channels (on all cores) only when the target differs.
void fit_native_block(const uint8_t* native, int64_t count, const ImageShape& native_shape,
                      const ImageShape& target, SourceBlock& block);
// Sizes the block for `count` images of `target` and clears the errors.
void prepare_block(SourceBlock& block, int64_t count, const ImageShape& target);

}  // namespace ft::datasets
