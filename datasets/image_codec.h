// PNG and JPEG decoding to 8-bit pixels: grayscale stays 1 channel, gray+alpha 2,
// colour 3, colour+alpha 4; CMYK JPEGs become RGB. Throws ft::Error naming the
// file when it does not decode (a libjpeg warning such as premature end of data
// counts as a failure: a half-gray image is not a training image).
#pragma once
#include <filesystem>

#include "datasets/image.h"

namespace ft::datasets {

Image decode_image_file(const std::filesystem::path& path);
bool has_image_extension(const std::filesystem::path& path);  // .png .jpg .jpeg, any case

}  // namespace ft::datasets
