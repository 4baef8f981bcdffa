// Tiles a batch of model-space images into one 8-bit HWC picture (sample grids
// for PNG files and TensorBoard).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "framework/core/tensor.h"

namespace ft::io {

struct ImageGrid {
  std::vector<uint8_t> pixels;  // height * width * channels, HWC
  int height = 0;
  int width = 0;
  int channels = 0;
};

// images: f32 or f64 [N, C, H, W] (C 1 or 3, any device) with values in model
// space [low, high], mapped linearly to [0, 255], rounded and clamped (NaN -> 0).
// Tiles go row-major into `columns` columns and ceil(N / columns) rows with
// `padding` black pixels between neighbouring tiles (none around the border);
// unused cells of the last row stay black.
ImageGrid make_image_grid(const Tensor& images, int columns, double low, double high,
                          int padding = 2);

// The grid as a PNG file, written atomically.
void write_png_file(const std::string& path, const ImageGrid& grid);

}  // namespace ft::io
