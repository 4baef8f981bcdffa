#include "framework/io/image_grid.h"

#include <cmath>

#include "framework/core/check.h"
#include "framework/io/png_writer.h"

namespace ft::io {
namespace {

uint8_t to_byte(double value, double low, double scale) {
  const double v = (value - low) * scale;
  if (!(v > 0.0)) return 0;  // also NaN
  if (v >= 255.0) return 255;
  return uint8_t(std::lround(v));
}

struct TileGeometry {
  int64_t c, h, w;
  int columns, padding;
};

// Copies image n (CHW, row-major in `values`) into its cell of the HWC grid.
void place_tile(const std::vector<double>& values, int64_t n, const TileGeometry& g, double low,
                double scale, ImageGrid& grid) {
  const int64_t top = (n / g.columns) * (g.h + g.padding);
  const int64_t left = (n % g.columns) * (g.w + g.padding);
  const double* image = values.data() + n * g.c * g.h * g.w;
  for (int64_t ch = 0; ch < g.c; ++ch)
    for (int64_t y = 0; y < g.h; ++y)
      for (int64_t x = 0; x < g.w; ++x) {
        const size_t at = size_t(((top + y) * grid.width + left + x) * g.c + ch);
        grid.pixels[at] = to_byte(image[(ch * g.h + y) * g.w + x], low, scale);
      }
}

}  // namespace

ImageGrid make_image_grid(const Tensor& images, int columns, double low, double high,
                          int padding) {
  FT_CHECK(images.dim() == 4, "make_image_grid: images must be [N, C, H, W], got {} dims",
           images.dim());
  FT_CHECK(images.dtype() == DType::f32 || images.dtype() == DType::f64,
           "make_image_grid: images must be f32 or f64, got {}", dtype_name(images.dtype()));
  FT_CHECK(columns > 0, "make_image_grid: columns = {}", columns);
  FT_CHECK(padding >= 0, "make_image_grid: padding = {}", padding);
  FT_CHECK(high > low, "make_image_grid: range [{}, {}] is empty", low, high);
  const int64_t n = images.size(0);
  const TileGeometry g{images.size(1), images.size(2), images.size(3), columns, padding};
  FT_CHECK(n > 0 && g.h > 0 && g.w > 0, "make_image_grid: empty batch [{}, {}, {}, {}]", n, g.c,
           g.h, g.w);
  FT_CHECK(g.c == 1 || g.c == 3, "make_image_grid: {} channels (1 or 3)", g.c);

  const int64_t rows = (n + columns - 1) / columns;
  ImageGrid grid;
  grid.channels = int(g.c);
  grid.height = int(rows * g.h + (rows - 1) * padding);
  grid.width = int(columns * g.w + (columns - 1) * int64_t(padding));
  grid.pixels.assign(size_t(grid.height) * size_t(grid.width) * size_t(g.c), 0);

  const Tensor host = images.device() == Device::cpu() ? images : images.to(Device::cpu());
  const std::vector<double> values = host.detach().to_double_vector();
  const double scale = 255.0 / (high - low);
  for (int64_t i = 0; i < n; ++i) place_tile(values, i, g, low, scale, grid);
  return grid;
}

void write_png_file(const std::string& path, const ImageGrid& grid) {
  write_png_file(path, grid.pixels.data(), grid.height, grid.width, grid.channels);
}

}  // namespace ft::io
