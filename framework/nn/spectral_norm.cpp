#include "framework/nn/spectral_norm.h"

#include <cmath>

#include "framework/autograd/grad_mode.h"
#include "framework/ops/ops.h"

namespace ft::nn {

namespace {

// v / |v|, with F.normalize's floor on the norm so a zero vector stays finite.
Tensor unit(const Tensor& v) {
  double norm = std::sqrt(sum(square(v)).item());
  return mul(v, 1.0 / std::max(norm, 1e-12));
}

}  // namespace

void SpectralNormOptions::validate(const char* who) const {
  FT_CHECK(coefficient > 0.0, "{}: the Lipschitz coefficient must be > 0, got {}", who, coefficient);
  FT_CHECK(iterations >= 0, "{}: power-iteration steps must be >= 0, got {}", who, iterations);
  FT_CHECK(initial_iterations >= 1, "{}: initial power-iteration steps must be >= 1, got {}", who,
           initial_iterations);
}

void SpectralNormLayer::start_vectors(Generator& gen) {
  NoGradGuard no_grad;
  u = unit(normal(u.shape(), 0.0, 1.0, gen, weight.dtype()));
  v = unit(normal(v.shape(), 0.0, 1.0, gen, weight.dtype()));
  initialized = Tensor::scalar(0.0, weight.dtype());
  register_buffer("u", &u);
  register_buffer("v", &v);
  register_buffer("initialized", &initialized);
}

void SpectralNormLayer::update_vectors(int64_t steps) {
  NoGradGuard no_grad;
  Tensor w = weight.detach(), uk = u, vk = v;
  for (int64_t s = 0; s < steps; ++s) {
    uk = unit(apply(vk, w));
    vk = unit(apply_transposed(uk, w));
  }
  u.copy_(uk);
  v.copy_(vk);
  initialized.fill_(1.0);
}

Tensor SpectralNormLayer::sigma_of(const Tensor& w) const {
  // Copies: a later update of the buffers must not change what this graph saved.
  return sum(mul(u.clone(), apply(v.clone(), w)));
}

double SpectralNormLayer::sigma() const {
  NoGradGuard no_grad;
  return sigma_of(weight.detach()).item();
}

Tensor SpectralNormLayer::normalized_weight() {
  if (initialized.item() == 0.0) update_vectors(options_.initial_iterations);
  if (training() && options_.iterations > 0) update_vectors(options_.iterations);
  // max(1, sigma / c) as 1 + relu(sigma / c - 1): differentiable twice, no host sync.
  Tensor factor = add(relu(add(mul(sigma_of(weight), 1.0 / options_.coefficient), -1.0)), 1.0);
  return div(weight, factor);
}

SpectralNormLinear::SpectralNormLinear(int64_t in_features, int64_t out_features, SpectralNormOptions options,
                                       Generator& gen, double weight_scale)
    : SpectralNormLayer(options) {
  options.validate("SpectralNormLinear");
  FT_CHECK(in_features > 0 && out_features > 0, "SpectralNormLinear({}, {})", in_features, out_features);
  double bound = 1.0 / std::sqrt(double(in_features));
  weight = mul(uniform({out_features, in_features}, -bound, bound, gen), weight_scale);
  bias = uniform({out_features}, -bound, bound, gen);
  register_parameter("weight", &weight);
  register_parameter("bias", &bias);
  u = Tensor::zeros({out_features});
  v = Tensor::zeros({in_features});
  start_vectors(gen);
}

Tensor SpectralNormLinear::forward(const Tensor& x) { return linear(x, normalized_weight().to(x.dtype()), bias.to(x.dtype())); }

Tensor SpectralNormLinear::apply(const Tensor& vec, const Tensor& w) const {
  return linear(vec.reshape({1, w.size(1)}), w, Tensor()).reshape({w.size(0)});
}

Tensor SpectralNormLinear::apply_transposed(const Tensor& vec, const Tensor& w) const {
  return matmul(vec.reshape({1, w.size(0)}), w).reshape({w.size(1)});
}

SpectralNormConv2d::SpectralNormConv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t height,
                                       int64_t width, SpectralNormOptions options, Generator& gen, double weight_scale)
    : SpectralNormLayer(options), padding_(kernel_size / 2), height_(height), width_(width) {
  options.validate("SpectralNormConv2d");
  FT_CHECK(kernel_size % 2 == 1, "SpectralNormConv2d kernel size {} (odd sizes keep the image size)", kernel_size);
  FT_CHECK(in_channels > 0 && out_channels > 0 && height > 0 && width > 0, "SpectralNormConv2d({}, {}) on {}x{}",
           in_channels, out_channels, height, width);
  double bound = 1.0 / std::sqrt(double(in_channels * kernel_size * kernel_size));
  weight = mul(uniform({out_channels, in_channels, kernel_size, kernel_size}, -bound, bound, gen), weight_scale);
  bias = uniform({out_channels}, -bound, bound, gen);
  register_parameter("weight", &weight);
  register_parameter("bias", &bias);
  u = Tensor::zeros({1, out_channels, height, width});
  v = Tensor::zeros({1, in_channels, height, width});
  start_vectors(gen);
}

Tensor SpectralNormConv2d::forward(const Tensor& x) {
  FT_CHECK(x.dim() == 4 && x.size(2) == height_ && x.size(3) == width_,
           "SpectralNormConv2d built for {}x{} images got {}", height_, width_, shape_str(x.shape()));
  return conv2d(x, normalized_weight().to(x.dtype()), bias.to(x.dtype()), padding_);
}

Tensor SpectralNormConv2d::apply(const Tensor& vec, const Tensor& w) const { return conv2d(vec, w, Tensor(), padding_); }

// A stride-1 "same" convolution's adjoint is the convolution with the kernel flipped
// in space and its channel axes swapped, at the same padding.
Tensor SpectralNormConv2d::apply_transposed(const Tensor& vec, const Tensor& w) const {
  return conv2d(vec, flip(flip(w, 2), 3).permute({1, 0, 2, 3}).contiguous(), Tensor(), padding_);
}

}  // namespace ft::nn
