#include "datasets/image_source.h"

#include <cstring>

#include "datasets/cifar10_source.h"
#include "datasets/idx_source.h"
#include "datasets/image_folder_source.h"
#include "datasets/image_resize.h"
#include "datasets/npz_source.h"
#include "framework/core/check.h"

namespace ft::datasets {

std::unique_ptr<ImageSource> open_image_source(const std::string& kind, const std::vector<std::filesystem::path>& paths) {
  if (paths.empty()) FT_FAIL("no source paths given for --from {}", kind);
  if (kind == "imagefolder") {
    if (paths.size() != 1) FT_FAIL("--from imagefolder takes one folder, got {} paths", paths.size());
    return std::make_unique<ImageFolderSource>(paths[0]);
  }
  if (kind == "idx") return std::make_unique<IdxSource>(paths);
  if (kind == "cifar10") return std::make_unique<Cifar10Source>(paths);
  if (kind == "npz") return std::make_unique<NpzSource>(paths);
  FT_FAIL("--from {}: unknown source kind (imagefolder, idx, cifar10 or npz)", kind);
}

void prepare_block(SourceBlock& block, int64_t count, const ImageShape& target) {
  block.pixels.resize(size_t(count * target.bytes()));
  block.labels.assign(size_t(count), -1);
  block.errors.assign(size_t(count), std::string());
}

void fit_native_block(const uint8_t* native, int64_t count, const ImageShape& native_shape,
                      const ImageShape& target, SourceBlock& block) {
  if (native_shape == target) {
    std::memcpy(block.pixels.data(), native, size_t(count * target.bytes()));
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) {
    const uint8_t* source = native + i * native_shape.bytes();
    Image image{native_shape.height, native_shape.width, native_shape.channels,
                std::vector<uint8_t>(source, source + native_shape.bytes())};
    fit_image(image, target.height, target.channels, block.pixels.data() + i * target.bytes());
  }
}

}  // namespace ft::datasets
