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

// Draws count samples (deterministic for the seed) and tiles them in a square-ish grid.
io::ImageGrid sample_grid(layers::FlowModel& model, const GridRequest& request);
std::vector<uint8_t> grid_png(const io::ImageGrid& grid);

}  // namespace ft::launch
