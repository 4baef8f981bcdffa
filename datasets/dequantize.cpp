#include "datasets/dequantize.h"

#include <algorithm>
#include <cmath>

#include "datasets/sampler.h"
#include "framework/core/check.h"
#include "framework/random/philox.h"

namespace ft::datasets {

Noise noise_from_name(const std::string& name) {
  if (name == "none") return Noise::none;
  if (name == "uniform") return Noise::uniform;
  if (name == "gaussian") return Noise::gaussian;
  FT_FAIL("noise '{}': expected none, uniform or gaussian", name);
}

ValueRange value_range_from_name(const std::string& name) {
  if (name == "zero_one") return ValueRange::zero_one;
  if (name == "centered") return ValueRange::centered;
  if (name == "symmetric") return ValueRange::symmetric;
  FT_FAIL("value range '{}': expected zero_one, centered or symmetric", name);
}

bool flip_sample(const SampleKey& key) {
  uint64_t index = uint64_t(key.position);
  PhiloxBlock block = philox4x32_10(key.seed, sample_stream(SampleStream::flip, key.epoch), index / 4);
  return block[index % 4] >> 31;
}

void flip_image(uint8_t* hwc, const ImageShape& shape) {
  int64_t c = shape.channels, w = shape.width;
  for (int64_t y = 0; y < shape.height; ++y) {
    uint8_t* row = hwc + y * w * c;
    for (int64_t x = 0; x < w / 2; ++x) std::swap_ranges(row + x * c, row + (x + 1) * c, row + (w - 1 - x) * c);
  }
}

namespace {

void fill_noise(const DequantizeOptions& options, const SampleKey& key, int64_t count, float* noise) {
  uint64_t stream = sample_stream(SampleStream::noise, key.epoch);
  // Each sample owns a disjoint range of counters.
  uint64_t first_block = uint64_t(key.position) * uint64_t((count + 3) / 4);
  for (int64_t i = 0; i < count; i += 4) {
    PhiloxBlock b = philox4x32_10(key.seed, stream, first_block + uint64_t(i / 4));
    float values[4];
    if (options.noise == Noise::uniform) {
      for (int k = 0; k < 4; ++k) values[k] = float(philox_unit(b[size_t(k)]));
    } else {
      // Box-Muller on lanes (0, 1) and (2, 3).
      for (int pair = 0; pair < 4; pair += 2) {
        double radius = std::sqrt(-2.0 * std::log(philox_unit(b[size_t(pair)])));
        double angle = 6.283185307179586 * philox_unit(b[size_t(pair + 1)]);
        values[pair] = float(radius * std::cos(angle));
        values[pair + 1] = float(radius * std::sin(angle));
      }
    }
    for (int k = 0; k < 4 && i + k < count; ++k) noise[i + k] = values[k];
  }
}

}  // namespace

void dequantize_image(const uint8_t* hwc, const ImageShape& shape, bool flip, const DequantizeOptions& options,
                      const SampleKey& key, float* chw) {
  int64_t h = shape.height, w = shape.width, c = shape.channels, count = shape.bytes();
  // Noise is drawn in output (CHW) order, after the flip, so index j of the output
  // always gets counter j.
  if (options.noise == Noise::uniform || options.noise == Noise::gaussian) fill_noise(options, key, count, chw);
  // value = scale * (p + u) + shift for uniform; scale * p + shift (+ std * n) otherwise.
  FT_CHECK(options.bits >= 1 && options.bits <= 8, "dequantization to {} bits", options.bits);
  const int drop = 8 - options.bits;
  const double levels = double(1 << options.bits);
  bool bins = options.noise == Noise::uniform || options.noise == Noise::learned;
  double scale = bins ? 1.0 / levels : 1.0 / (levels - 1.0), shift = 0.0;
  if (options.range == ValueRange::centered) shift = -0.5;
  if (options.range == ValueRange::symmetric) scale *= 2.0, shift = -1.0;
  auto fscale = float(scale), fshift = float(shift), fstd = float(options.gaussian_std);
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      const uint8_t* pixel = hwc + (y * w + (flip ? w - 1 - x : x)) * c;
      for (int64_t k = 0; k < c; ++k) {
        float& out = chw[(k * h + y) * w + x];
        float p = float(pixel[k] >> drop);
        switch (options.noise) {
          case Noise::none:
          case Noise::learned: out = fscale * p + fshift; break;
          case Noise::uniform: out = fscale * (p + out) + fshift; break;
          case Noise::gaussian: out = fscale * p + fshift + fstd * out; break;
        }
      }
    }
  }
}

}  // namespace ft::datasets
