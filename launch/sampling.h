// Sample grids: images drawn from a model, tiled and encoded as PNG.
#pragma once
#include <filesystem>

#include "framework/io/image_grid.h"
#include "layers/flow_model.h"

namespace ft::launch {

struct GridRequest {
  int64_t count = 16;
  layers::SampleOptions options;
  uint64_t seed = 0;
};

// count samples in model space, f32 [count, C, H, W]; deterministic for the seed.
Tensor draw_samples(layers::FlowModel& model, const GridRequest& request);
// Tiles model-space images in a square-ish grid of 8-bit pixels.
io::ImageGrid tile_samples(const layers::FlowModel& model, const Tensor& images);
// draw_samples, then tile_samples.
io::ImageGrid sample_grid(layers::FlowModel& model, const GridRequest& request);
std::vector<uint8_t> grid_png(const io::ImageGrid& grid);

}  // namespace ft::launch
