// Spectral normalisation as i-ResNet (Behrmann et al. 2019) and Residual Flows (Chen
// et al. 2019) use it, to bound a layer's Lipschitz constant: the layer computes with
// W / max(1, sigma / coefficient), sigma the largest singular value of its linear map
// (for a convolution, of the map on whole input images, padding included), so the
// layer is at most `coefficient`-Lipschitz and weights already below are untouched.
//
// sigma comes from power iteration on persistent vectors u, v (buffers: checkpoints
// keep them, so a resumed run continues exactly). They start random; the first
// forward converges them with initial_iterations steps (not the constructor: a paper
// preset's convolutions would make building the model, `flowtrain info` included,
// take minutes), which the `initialized` buffer records. Each forward in training
// mode then first runs `iterations` steps without a gradient, on the current weights;
// sigma = u . W v is differentiable in W. In eval mode the stored vectors are used as
// they are (the weights the model was evaluated with are the ones it trained to).
#pragma once
#include "framework/nn/init.h"
#include "framework/nn/module.h"
#include "framework/random/generator.h"

namespace ft::nn {

struct SpectralNormOptions {
  double coefficient = 0.98;        // i-ResNet: 0.9; Residual Flows: 0.98
  int64_t iterations = 5;           // power-iteration steps per training forward
  int64_t initial_iterations = 200;  // at construction, from random vectors
  void validate(const char* who) const;
};

// A spectrally normalised layer; forward is not const: training mode updates u, v.
class SpectralNormLayer : public Module {
 public:
  explicit SpectralNormLayer(SpectralNormOptions options) : options_(options) {}
  virtual Tensor forward(const Tensor& x) = 0;
  // The weight the layer computes with: weight / max(1, sigma / coefficient).
  Tensor normalized_weight();
  // The current estimate of the weight's largest singular value (no update).
  double sigma() const;
  // Steps of power iteration on the current weights, without a gradient (and the
  // vectors count as initialized).
  void update_vectors(int64_t steps);
  const SpectralNormOptions& options() const { return options_; }

  Tensor weight, bias;
  Tensor u, v;  // left and right singular vector estimates, unit norm
  Tensor initialized;  // scalar, 0 or 1: u and v have had their initial iterations

 protected:
  // The layer's linear map without bias (A v) and its transpose (A^T u).
  virtual Tensor apply(const Tensor& v, const Tensor& weight) const = 0;
  virtual Tensor apply_transposed(const Tensor& u, const Tensor& weight) const = 0;
  void start_vectors(Generator& gen);  // u, v from N(0, 1), normalised

 private:
  Tensor sigma_of(const Tensor& weight) const;  // u . A v, differentiable in weight
  SpectralNormOptions options_;
};

// y = x W_sn^T + b; x [N, in].
class SpectralNormLinear : public SpectralNormLayer {
 public:
  // weight_scale multiplies the initial weight (Residual Flows starts the last layer
  // of a block near zero, at 1/1000, so the block starts near the identity).
  SpectralNormLinear(int64_t in_features, int64_t out_features, SpectralNormOptions options, Generator& gen,
                     double weight_scale = 1.0);
  Tensor forward(const Tensor& x) override;

 protected:
  Tensor apply(const Tensor& v, const Tensor& weight) const override;
  Tensor apply_transposed(const Tensor& u, const Tensor& weight) const override;
};

// NCHW, stride 1, "same" zero padding (odd kernels), on height x width images: the
// operator norm depends on the image size, so the layer is built for one.
class SpectralNormConv2d : public SpectralNormLayer {
 public:
  SpectralNormConv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t height, int64_t width,
                     SpectralNormOptions options, Generator& gen, double weight_scale = 1.0);
  Tensor forward(const Tensor& x) override;

 protected:
  Tensor apply(const Tensor& v, const Tensor& weight) const override;
  Tensor apply_transposed(const Tensor& u, const Tensor& weight) const override;

 private:
  int64_t padding_, height_, width_;
};

}  // namespace ft::nn
