#include "layers/flows/lipschitz_network.h"

#include <algorithm>
#include <string>

#include "framework/core/check.h"

namespace ft::layers::flows {

namespace {
constexpr double kLastLayerScale = 1e-3;
}

void LipschitzNetwork::add(std::shared_ptr<nn::SpectralNormLayer> layer) {
  std::string index = std::to_string(layers_.size());
  activations_.push_back(register_module("activations." + index, std::make_shared<nn::LipSwish>()));
  layers_.push_back(register_module("layers." + index, std::move(layer)));
}

std::shared_ptr<LipschitzNetwork> LipschitzNetwork::mlp(const std::vector<int64_t>& widths,
                                                        const nn::SpectralNormOptions& options, Generator& gen) {
  FT_CHECK(widths.size() >= 2, "a Lipschitz MLP needs at least an input and an output width, got {}", widths.size());
  auto net = std::make_shared<LipschitzNetwork>();
  for (size_t i = 0; i + 1 < widths.size(); ++i) {
    double scale = i + 2 == widths.size() ? kLastLayerScale : 1.0;
    net->add(std::make_shared<nn::SpectralNormLinear>(widths[i], widths[i + 1], options, gen, scale));
  }
  return net;
}

std::shared_ptr<LipschitzNetwork> LipschitzNetwork::cnn(int64_t channels, int64_t hidden, int64_t height, int64_t width,
                                                        const nn::SpectralNormOptions& options, Generator& gen) {
  FT_CHECK(channels > 0 && hidden > 0, "a Lipschitz CNN with {} channels and {} hidden", channels, hidden);
  auto net = std::make_shared<LipschitzNetwork>();
  net->add(std::make_shared<nn::SpectralNormConv2d>(channels, hidden, 3, height, width, options, gen));
  net->add(std::make_shared<nn::SpectralNormConv2d>(hidden, hidden, 1, height, width, options, gen));
  net->add(std::make_shared<nn::SpectralNormConv2d>(hidden, channels, 3, height, width, options, gen, kLastLayerScale));
  return net;
}

Tensor LipschitzNetwork::forward(const Tensor& x) {
  Tensor h = x;
  for (size_t i = 0; i < layers_.size(); ++i) h = layers_[i]->forward(activations_[i]->forward(h));
  return h;
}

double LipschitzNetwork::lipschitz_bound() const {
  double bound = 1.0;
  for (const auto& layer : layers_) bound *= std::min(layer->sigma(), layer->options().coefficient);
  return bound;
}

double LipschitzNetwork::lipschitz_limit() const {
  double limit = 1.0;
  for (const auto& layer : layers_) limit *= layer->options().coefficient;
  return limit;
}

}  // namespace ft::layers::flows
