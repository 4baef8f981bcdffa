// uint8 pixels to the floats a flow model trains on, with dequantization noise so
// the model sees a continuous density. The noise of a sample depends only on
// (seed, epoch, position in the epoch's order): identical at any world size or
// thread count, and after a resume.
#pragma once
#include <cstdint>
#include <string>

#include "datasets/shard_writer.h"

namespace ft::datasets {

// learned: the model draws the noise itself (Flow++'s variational dequantization).
enum class Noise { none, uniform, gaussian, learned };
// zero_one: [0, 1]; centered: [-0.5, 0.5] (Glow); symmetric: [-1, 1] (TARFLOW).
enum class ValueRange { zero_one, centered, symmetric };
Noise noise_from_name(const std::string& name);
ValueRange value_range_from_name(const std::string& name);

struct DequantizeOptions {
  // none: p/255; uniform: (p + u)/256 with u ~ U(0, 1); gaussian: p/255, then
  // gaussian_std * N(0, 1) added after mapping to the range; learned: p/256, the
  // corner of the pixel's bin on uniform's scale, to which the model adds its u/256.
  Noise noise = Noise::uniform;
  double gaussian_std = 0.05;
  ValueRange range = ValueRange::centered;
  // Pixels are first reduced to `bits` bits (Glow's n_bits): p -> floor(p / 2^(8-bits)),
  // with 2^bits levels in place of 256.
  int bits = 8;
};

struct SampleKey {
  uint64_t seed;
  int64_t epoch;
  int64_t position;  // in the epoch's global order
};

// Whether the sample at this key is flipped horizontally (a fair coin per sample).
bool flip_sample(const SampleKey& key);
// One HWC uint8 image to CHW floats, mirrored horizontally when `flip`.
void dequantize_image(const uint8_t* hwc, const ImageShape& shape, bool flip, const DequantizeOptions& options,
                      const SampleKey& key, float* chw);
// Mirrors one HWC image in place.
void flip_image(uint8_t* hwc, const ImageShape& shape);

}  // namespace ft::datasets
