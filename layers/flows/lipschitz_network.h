// The residual function g of an invertible residual block (i-ResNet, Residual Flows):
// [LipSwish, spectrally normalised layer] repeated, so Lip(g) <= the product of the
// layers' coefficients < 1 (LipSwish is 1-Lipschitz) and x + g(x) is invertible.
// The last layer starts at 1/1000 of its initial weight, so a block starts near the
// identity (Residual Flows' zero_init). Parameter names: activations.<i>.beta,
// layers.<i>.weight / .bias, buffers layers.<i>.u / .v.
#pragma once
#include <memory>
#include <vector>

#include "framework/nn/lipswish.h"
#include "framework/nn/spectral_norm.h"

namespace ft::layers::flows {

class LipschitzNetwork : public nn::Module {
 public:
  // Over vectors [N, widths.front()]: linear layers widths[0] -> widths[1] -> ... -> widths.back().
  static std::shared_ptr<LipschitzNetwork> mlp(const std::vector<int64_t>& widths, const nn::SpectralNormOptions& options,
                                               Generator& gen);
  // Over images [N, channels, height, width]: Residual Flows' 3x3 -> 1x1 -> 3x3
  // convolutions with `hidden` channels between.
  static std::shared_ptr<LipschitzNetwork> cnn(int64_t channels, int64_t hidden, int64_t height, int64_t width,
                                               const nn::SpectralNormOptions& options, Generator& gen);
  Tensor forward(const Tensor& x);
  // The product of the layers' Lipschitz bounds, min(sigma, coefficient) each.
  double lipschitz_bound() const;
  // What that bound can reach: the product of the layers' coefficients.
  double lipschitz_limit() const;

 private:
  void add(std::shared_ptr<nn::SpectralNormLayer> layer);
  std::vector<std::shared_ptr<nn::LipSwish>> activations_;
  std::vector<std::shared_ptr<nn::SpectralNormLayer>> layers_;
};

}  // namespace ft::layers::flows
