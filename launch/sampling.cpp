#include "launch/sampling.h"

#include <cmath>

#include "framework/io/png_writer.h"

namespace ft::launch {

io::ImageGrid sample_grid(layers::FlowModel& model, const GridRequest& request) {
  bool was_training = model.training();
  model.set_training(false);
  Generator gen(request.seed, 0x5A3B1E);
  Tensor images = model.sample(request.count, request.options, gen);
  model.set_training(was_training);
  layers::DataScaling s = model.scaling();
  // Model space back to pixels: [shift, brightest] -> [0, 255].
  int columns = int(std::ceil(std::sqrt(double(request.count))));
  return io::make_image_grid(images.detach(), columns, s.shift, s.brightest);
}

std::vector<uint8_t> grid_png(const io::ImageGrid& grid) {
  return io::encode_png(grid.pixels.data(), grid.height, grid.width, grid.channels);
}

}  // namespace ft::launch
