// Bringing a decoded image to the target shape: channel conversion, a center crop
// to a square and an area (box) filter, as ImageNet downsampling does.
#pragma once
#include "datasets/image.h"

namespace ft::datasets {

// 1 <-> 3 <-> 4 channels (2 = gray + alpha). Alpha is dropped, not composited (as
// PIL's convert("RGB")); gray from colour uses ITU-R 601 luma.
Image convert_channels(const Image& image, int64_t channels);
// Crops the centered largest square and resamples it to resolution x resolution
// with area weights; a square image already at the resolution comes back unchanged.
Image center_crop_area_resize(const Image& image, int64_t resolution);
// Both, writing resolution^2 * channels bytes to `out`.
void fit_image(const Image& image, int64_t resolution, int64_t channels, uint8_t* out);

}  // namespace ft::datasets
