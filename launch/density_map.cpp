#include "launch/density_map.h"

#include <algorithm>
#include <cmath>

#include "framework/autograd/grad_mode.h"
#include "framework/core/check.h"
#include "framework/ops/ops.h"

namespace ft::launch {

namespace {

// The square that holds the samples with a margin of a tenth ([-4, 4]^2 without samples).
std::pair<double, double> extent_of(const std::vector<double>& xy) {
  if (xy.empty()) return {-4.0, 4.0};
  auto [lo, hi] = std::minmax_element(xy.begin(), xy.end());
  double margin = 0.1 * std::max(*hi - *lo, 1e-6);
  return {*lo - margin, *hi + margin};
}

// A black-red-yellow-white ramp of t in [0, 1].
void heat_colour(double t, uint8_t* rgb) {
  t = std::clamp(t, 0.0, 1.0);
  auto channel = [&](double start) { return uint8_t(std::lround(255.0 * std::clamp(3.0 * t - start, 0.0, 1.0))); };
  rgb[0] = channel(0.0);
  rgb[1] = channel(1.0);
  rgb[2] = channel(2.0);
}

}  // namespace

DensityMap draw_density_map(layers::FlowModel& model, const Tensor& samples, int resolution) {
  FT_CHECK(model.data_shape() == Shape{2}, "a density map shows 2-D vector flows; this model's examples are {}",
           shape_str(model.data_shape()));
  FT_CHECK(resolution >= 8, "a density map needs at least 8x8 pixels, got {}", resolution);
  std::vector<double> xy = samples.defined() ? samples.to(Device::cpu()).to_double_vector() : std::vector<double>{};
  DensityMap map;
  std::tie(map.low, map.high) = extent_of(xy);
  const double step = (map.high - map.low) / resolution;
  // Pixel centres, row-major from the top row (largest y).
  std::vector<float> points;
  points.reserve(size_t(resolution) * size_t(resolution) * 2);
  for (int row = 0; row < resolution; ++row)
    for (int col = 0; col < resolution; ++col) {
      points.push_back(float(map.low + (col + 0.5) * step));
      points.push_back(float(map.high - (row + 0.5) * step));
    }
  NoGradGuard no_grad;
  bool was_training = model.training();
  model.set_training(false);
  int64_t count = int64_t(resolution) * resolution;
  Tensor grid = Tensor::from_vector(points, {count, 2}).to(model.device());
  std::vector<double> log_p;
  for (int64_t first = 0; first < count; first += 4096) {  // bounded memory at any resolution
    Tensor part = grid.slice(0, first, std::min(count, first + 4096));
    std::vector<double> values = model.forward(part, Tensor()).log_prob.to(Device::cpu()).to_double_vector();
    log_p.insert(log_p.end(), values.begin(), values.end());
  }
  model.set_training(was_training);
  double peak = -INFINITY;
  for (double v : log_p)
    if (std::isfinite(v)) peak = std::max(peak, v);
  map.picture.height = map.picture.width = resolution;
  map.picture.channels = 3;
  map.picture.pixels.assign(size_t(count) * 3, 0);
  for (int64_t i = 0; i < count; ++i)
    if (std::isfinite(log_p[size_t(i)])) heat_colour(std::exp(log_p[size_t(i)] - peak), &map.picture.pixels[size_t(i) * 3]);
  for (size_t i = 0; i + 1 < xy.size(); i += 2) {
    auto col = int(std::floor((xy[i] - map.low) / step)), row = int(std::floor((map.high - xy[i + 1]) / step));
    if (col < 0 || row < 0 || col >= resolution || row >= resolution) continue;
    uint8_t* rgb = &map.picture.pixels[(size_t(row) * size_t(resolution) + size_t(col)) * 3];
    rgb[0] = 120, rgb[1] = 200, rgb[2] = 255;
  }
  return map;
}

}  // namespace ft::launch
