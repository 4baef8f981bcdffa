#include "launch/sampling.h"

#include <cmath>

#include "framework/autograd/grad_mode.h"
#include "framework/io/png_writer.h"

namespace ft::launch {

Tensor draw_samples(layers::FlowModel& model, const GridRequest& request) {
  bool was_training = model.training();
  model.set_training(false);
  Generator gen(request.seed, 0x5A3B1E);
  // Sampling keeps no graph (TARFLOW's denoising step turns grad mode on for itself).
  NoGradGuard no_grad;
  Tensor images = model.sample(request.count, request.options, gen);
  model.set_training(was_training);
  return images.detach().to(DType::f32).to(Device::cpu());  // pictures and files are written from host memory
}

io::ImageGrid tile_samples(const layers::FlowModel& model, const Tensor& images) {
  layers::DataScaling s = model.scaling();
  // Model space back to pixels: [shift, brightest] -> [0, 255].
  int columns = int(std::ceil(std::sqrt(double(images.size(0)))));
  return io::make_image_grid(images, columns, s.shift, s.brightest);
}

io::ImageGrid sample_grid(layers::FlowModel& model, const GridRequest& request) {
  return tile_samples(model, draw_samples(model, request));
}

std::vector<uint8_t> grid_png(const io::ImageGrid& grid) {
  return io::encode_png(grid.pixels.data(), grid.height, grid.width, grid.channels);
}

}  // namespace ft::launch
