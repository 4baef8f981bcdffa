// Log-likelihood bookkeeping shared by the models: Gaussian log-densities and
// bits per dimension for data quantised to 256 levels.
#pragma once
#include "framework/core/tensor.h"

namespace ft::layers {

// Per-example sum of log N(x; mean, exp(logs)^2) over all dims but the first.
// mean and logs broadcast against x; either may be undefined (0).
Tensor gaussian_log_prob(const Tensor& x, const Tensor& mean, const Tensor& logs);

// How images in [0, 255] map to model space: x = pixel * scale + shift + noise,
// and the density of one quantisation bin per unit used by bits per dimension.
struct DataScaling {
  double scale = 1.0 / 256.0;
  double shift = -0.5;
  double bins_per_unit = 256.0;
  double brightest = 255.0 / 256.0 - 0.5;  // model-space value of the largest pixel (for display)
  // Vector data is continuous: no bins, and likelihoods are reported as nats per
  // dimension (-log p(x) / D) in place of bits per dimension.
  bool quantized = true;
  // Bits per dimension of an example with log-likelihood log_px (in model space)
  // over `dims` dimensions: (-log p(x) + D log(bins_per_unit)) / (D ln 2).
  double bits_per_dim(double log_px, double dims) const;
};

// Glow: x / 2^n_bits - 0.5 (bin width 2^-n_bits after reducing to n_bits).
DataScaling glow_scaling(int n_bits);
// TARFLOW (apple/ml-tarflow): x / 127.5 - 1, with the log(128) term per dimension.
DataScaling tarflow_scaling();
// The flow library's image models (RealNVP, NICE, Flow++): (pixel + u) / 256 in [0, 1).
DataScaling unit_scaling();
// Continuous vectors, as stored: no scaling, no bins.
DataScaling vector_scaling();

}  // namespace ft::layers
