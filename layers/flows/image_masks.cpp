#include "layers/flows/image_masks.h"

#include <vector>

#include "framework/core/check.h"

namespace ft::layers::flows {

ImageMask image_mask_from_name(const std::string& name) {
  if (name == "checkerboard") return ImageMask::checkerboard;
  if (name == "channel") return ImageMask::channel;
  FT_FAIL("unknown image mask \"{}\" (expected \"checkerboard\" or \"channel\")", name);
}

const char* image_mask_name(ImageMask kind) { return kind == ImageMask::checkerboard ? "checkerboard" : "channel"; }

Tensor image_mask(ImageMask kind, int parity, int64_t channels, int64_t height, int64_t width) {
  FT_CHECK(parity == 0 || parity == 1, "mask parity must be 0 or 1, got {}", parity);
  FT_CHECK(channels > 0 && height > 0 && width > 0, "an image mask needs a positive shape, got [{}, {}, {}]", channels,
           height, width);
  if (kind == ImageMask::channel)
    FT_CHECK(channels % 2 == 0, "a channel mask splits the channels in half, but the input has {} channels", channels);
  else
    FT_CHECK(height * width > 1, "a checkerboard mask needs more than one pixel, but the input is {}x{}", height,
             width);
  std::vector<float> values(static_cast<size_t>(channels * height * width));
  size_t i = 0;
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t h = 0; h < height; ++h)
      for (int64_t w = 0; w < width; ++w, ++i) {
        bool keep = kind == ImageMask::checkerboard ? (h + w + parity) % 2 == 0 : (c < channels / 2) == (parity == 0);
        values[i] = keep ? 1.0f : 0.0f;
      }
  return Tensor::from_vector(values, {1, channels, height, width});
}

}  // namespace ft::layers::flows
