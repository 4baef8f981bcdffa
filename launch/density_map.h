// The learned density of a 2-D vector flow as a picture: exp(log p) on a square grid
// as a heat map (black = 0, then red and yellow to white at the grid's maximum), the
// given samples drawn over it as light blue dots, and the extent chosen to hold them.
#pragma once
#include "framework/io/image_grid.h"
#include "layers/flow_model.h"

namespace ft::launch {

struct DensityMap {
  io::ImageGrid picture;  // resolution x resolution, RGB; row 0 is the largest y
  double low = 0.0, high = 0.0;  // the square [low, high]^2 it shows
};

// model: a vector flow of 2 features; samples [n, 2] (may be empty: no dots).
DensityMap draw_density_map(layers::FlowModel& model, const Tensor& samples, int resolution = 256);

}  // namespace ft::launch
