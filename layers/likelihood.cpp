#include "layers/likelihood.h"

#include <cmath>

#include "framework/ops/ops.h"

namespace ft::layers {

Tensor gaussian_log_prob(const Tensor& x, const Tensor& mean, const Tensor& logs) {
  constexpr double kLog2Pi = 1.8378770664093454836;
  Tensor centered = mean.defined() ? sub(x, mean) : x;
  Tensor quad = square(centered);
  Tensor terms;
  if (logs.defined()) {
    // -0.5 * (log 2pi + 2 logs + (x - mean)^2 exp(-2 logs))
    terms = add(mul(add(mul(logs, 2.0), mul(quad, exp(mul(logs, -2.0)))), -0.5), -0.5 * kLog2Pi);
  } else {
    terms = add(mul(quad, -0.5), -0.5 * kLog2Pi);
  }
  std::vector<int64_t> dims;
  for (int64_t d = 1; d < terms.dim(); ++d) dims.push_back(d);
  return sum(terms, dims);
}

double DataScaling::bits_per_dim(double log_px, double dims) const {
  return (-log_px + dims * std::log(bins_per_unit)) / (dims * std::log(2.0));
}

DataScaling glow_scaling(int n_bits) {
  DataScaling s;
  // Pixels are first reduced to n_bits: floor(x / 2^(8-n)), then divided by 2^n.
  s.scale = 1.0 / std::ldexp(1.0, n_bits);
  s.shift = -0.5;
  s.bins_per_unit = std::ldexp(1.0, n_bits);
  s.brightest = 0.5 - s.scale;
  return s;
}

DataScaling unit_scaling() {
  DataScaling s;
  s.shift = 0.0;
  s.brightest = 255.0 / 256.0;
  return s;
}

DataScaling vector_scaling() {
  DataScaling s;
  s.scale = 1.0;
  s.shift = 0.0;
  s.bins_per_unit = 1.0;
  s.brightest = 0.0;
  s.quantized = false;
  return s;
}

DataScaling tarflow_scaling() {
  DataScaling s;
  s.scale = 1.0 / 127.5;
  s.shift = -1.0;
  s.bins_per_unit = 128.0;
  s.brightest = 1.0;
  return s;
}

}  // namespace ft::layers
