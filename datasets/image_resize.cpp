#include "datasets/image_resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "framework/core/check.h"

namespace ft::datasets {

namespace {

uint8_t luma(uint8_t r, uint8_t g, uint8_t b) {
  // Weights sum to 1000, so a gray pixel (r = g = b) maps to itself.
  return uint8_t((299 * r + 587 * g + 114 * b + 500) / 1000);
}

// Reads a pixel as (gray-or-r, g, b, alpha) whatever the source layout.
void pixel_rgba(const uint8_t* p, int64_t channels, uint8_t rgba[4]) {
  switch (channels) {
    case 1: rgba[0] = rgba[1] = rgba[2] = p[0]; rgba[3] = 255; break;
    case 2: rgba[0] = rgba[1] = rgba[2] = p[0]; rgba[3] = p[1]; break;
    case 3: rgba[0] = p[0]; rgba[1] = p[1]; rgba[2] = p[2]; rgba[3] = 255; break;
    default: rgba[0] = p[0]; rgba[1] = p[1]; rgba[2] = p[2]; rgba[3] = p[3]; break;
  }
}

struct Tap {
  int64_t index;
  double weight;
};

// Area weights along one axis: output cell o covers [o*S, (o+1)*S) and input cell i
// covers [i*R, (i+1)*R) in units of 1/R; the weight is the overlap over S (exact).
std::vector<std::vector<Tap>> area_taps(int64_t source, int64_t resolution) {
  std::vector<std::vector<Tap>> taps(static_cast<size_t>(resolution));
  for (int64_t o = 0; o < resolution; ++o) {
    int64_t low = o * source, high = (o + 1) * source;
    for (int64_t i = low / resolution; i * resolution < high && i < source; ++i) {
      int64_t overlap = std::min(high, (i + 1) * resolution) - std::max(low, i * resolution);
      if (overlap > 0) taps[size_t(o)].push_back({i, double(overlap) / double(source)});
    }
  }
  return taps;
}

}  // namespace

Image convert_channels(const Image& image, int64_t channels) {
  FT_CHECK(channels == 1 || channels == 3 || channels == 4, "target channels {} is not 1, 3 or 4", channels);
  if (image.channels == channels) return image;
  int64_t n = image.height * image.width;
  Image out{image.height, image.width, channels, std::vector<uint8_t>(size_t(n * channels))};
  for (int64_t i = 0; i < n; ++i) {
    uint8_t rgba[4];
    pixel_rgba(&image.pixels[size_t(i * image.channels)], image.channels, rgba);
    uint8_t* q = &out.pixels[size_t(i * channels)];
    if (channels == 1) {
      q[0] = luma(rgba[0], rgba[1], rgba[2]);
    } else {
      std::memcpy(q, rgba, size_t(channels));
    }
  }
  return out;
}

Image center_crop_area_resize(const Image& image, int64_t resolution) {
  FT_CHECK(resolution > 0, "resolution {} is not positive", resolution);
  int64_t side = std::min(image.height, image.width), c = image.channels;
  FT_CHECK(side > 0, "an empty {}x{} image", image.height, image.width);
  int64_t top = (image.height - side) / 2, left = (image.width - side) / 2;
  std::vector<std::vector<Tap>> taps = area_taps(side, resolution);
  // Horizontal pass over the cropped rows, then vertical.
  std::vector<double> rows(size_t(side * resolution * c), 0.0);
  for (int64_t y = 0; y < side; ++y) {
    const uint8_t* source_row = &image.pixels[size_t(((top + y) * image.width + left) * c)];
    double* row = &rows[size_t(y * resolution * c)];
    for (int64_t x = 0; x < resolution; ++x)
      for (const Tap& tap : taps[size_t(x)])
        for (int64_t k = 0; k < c; ++k) row[x * c + k] += tap.weight * source_row[tap.index * c + k];
  }
  Image out{resolution, resolution, c, std::vector<uint8_t>(size_t(resolution * resolution * c))};
  std::vector<double> accumulated(size_t(resolution * c));
  for (int64_t y = 0; y < resolution; ++y) {
    std::fill(accumulated.begin(), accumulated.end(), 0.0);
    for (const Tap& tap : taps[size_t(y)]) {
      const double* row = &rows[size_t(tap.index * resolution * c)];
      for (int64_t j = 0; j < resolution * c; ++j) accumulated[size_t(j)] += tap.weight * row[j];
    }
    for (int64_t j = 0; j < resolution * c; ++j)
      out.pixels[size_t(y * resolution * c + j)] = uint8_t(std::clamp(std::lround(accumulated[size_t(j)]), 0L, 255L));
  }
  return out;
}

void fit_image(const Image& image, int64_t resolution, int64_t channels, uint8_t* out) {
  Image converted = convert_channels(image, channels);
  if (converted.height != resolution || converted.width != resolution)
    converted = center_crop_area_resize(converted, resolution);
  std::memcpy(out, converted.pixels.data(), converted.pixels.size());
}

}  // namespace ft::datasets
