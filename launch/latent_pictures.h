// Pictures of a trained flow's latent space: test images encoded and decoded again
// (the invertibility check), and paths between two images' latents (Glow's demos).
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "datasets/image_lookup.h"
#include "launch/config.h"
#include "layers/flow_model.h"

namespace ft::launch {

// Test images in the model's space without dequantization noise, and the labels a
// conditional model needs (undefined for an unconditional one), in host memory;
// reconstruct and interpolate run the model on its device and return host tensors.
struct ModelImages {
  Tensor x;       // f32 [n, C, H, W]
  Tensor labels;  // i64 [n] or undefined
};
ModelImages to_model_space(const datasets::ImagesAt& images, const Config& config, const layers::FlowModel& model);

struct Reconstruction {
  Tensor decoded;               // f32 [n, C, H, W]: inverse(forward(x))
  double max_abs_error = 0.0;   // max |decoded - x| in model space
  Tensor log_prob;              // f64 [n]: log p(x) in model space of the noise-free images
};
Reconstruction reconstruct(layers::FlowModel& model, const ModelImages& images);

// steps points from images 0 to 1 (both included): every latent (each of Glow's
// split latents too) moves linearly, (1 - t) z0 + t z1. A conditional model
// decodes the first half of the path with image 0's label, the rest with image 1's,
// so both endpoints are exact reconstructions. on_image(decoded, steps) after each
// point, for a progress line.
Tensor interpolate(layers::FlowModel& model, const ModelImages& pair, int64_t steps,
                   const std::function<void(int64_t done, int64_t total)>& on_image = {});

}  // namespace ft::launch
