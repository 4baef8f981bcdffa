// PNG encoding with libpng: 8-bit grayscale or RGB from interleaved HWC pixels.
// libpng errors become ft::Error.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ft::io {

// pixels: height * width * channels bytes, row-major, channels interleaved; channels 1 or 3.
std::vector<uint8_t> encode_png(const uint8_t* pixels, int height, int width, int channels);

// Encodes and writes `path` through a temporary name in the same folder and a
// rename, so a reader never sees a half-written PNG.
void write_png_file(const std::string& path, const uint8_t* pixels, int height, int width,
                    int channels);

}  // namespace ft::io
