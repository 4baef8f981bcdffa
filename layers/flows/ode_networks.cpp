#include "layers/flows/ode_networks.h"

#include "framework/core/check.h"
#include "framework/ops/ops.h"

namespace ft::layers::flows {

namespace {

Tensor activate(OdeActivation activation, const Tensor& x) {
  return activation == OdeActivation::tanh ? tanh(x) : softplus(x);
}

std::vector<int64_t> widths(int64_t outer, int64_t hidden, int64_t hidden_layers) {
  FT_CHECK(outer >= 1 && hidden >= 1 && hidden_layers >= 0,
           "an ODE network needs features >= 1, hidden >= 1 and hidden_layers >= 0, got {}, {} and {}", outer, hidden,
           hidden_layers);
  std::vector<int64_t> w{outer};
  for (int64_t i = 0; i < hidden_layers; ++i) w.push_back(hidden);
  w.push_back(outer);
  return w;
}

}  // namespace

OdeActivation parse_ode_activation(const std::string& name, const std::string& key) {
  if (name == "tanh") return OdeActivation::tanh;
  if (name == "softplus") return OdeActivation::softplus;
  FT_FAIL("{} is \"{}\"; expected tanh or softplus", key, name);
}

ConcatSquashLinear::ConcatSquashLinear(int64_t in_features, int64_t out_features, Generator& gen)
    : layer_(register_module("layer", std::make_shared<nn::Linear>(in_features, out_features, true, gen))),
      gate_(register_module("hyper_gate", std::make_shared<nn::Linear>(1, out_features, true, gen))),
      bias_(register_module("hyper_bias", std::make_shared<nn::Linear>(1, out_features, false, gen))) {}

Tensor ConcatSquashLinear::forward(double t, const Tensor& x) const {
  Tensor time = Tensor::full({1, 1}, t, x.dtype(), x.device());
  return add(mul(layer_->forward(x), sigmoid(gate_->forward(time))), bias_->forward(time));
}

ConcatConv2d::ConcatConv2d(int64_t in_channels, int64_t out_channels, Generator& gen)
    : conv_(register_module("conv", std::make_shared<nn::Conv2d>(in_channels + 1, out_channels, 3, true, gen))) {}

Tensor ConcatConv2d::forward(double t, const Tensor& x) const {
  Tensor time = Tensor::full({x.size(0), 1, x.size(2), x.size(3)}, t, x.dtype(), x.device());
  return conv_->forward(concat({time, x}, 1));
}

ConcatSquashMlp::ConcatSquashMlp(int64_t features, int64_t hidden, int64_t hidden_layers, OdeActivation activation,
                                 Generator& gen)
    : activation_(activation) {
  std::vector<int64_t> w = widths(features, hidden, hidden_layers);
  for (size_t i = 0; i + 1 < w.size(); ++i)
    layers_.push_back(
        register_module(std::to_string(i), std::make_shared<ConcatSquashLinear>(w[i], w[i + 1], gen)));
}

Tensor ConcatSquashMlp::forward(double t, const Tensor& z) {
  Tensor h = z;
  for (size_t i = 0; i < layers_.size(); ++i) {
    h = layers_[i]->forward(t, h);
    if (i + 1 < layers_.size()) h = activate(activation_, h);
  }
  return h;
}

ConcatConvNet::ConcatConvNet(int64_t channels, int64_t hidden, int64_t hidden_layers, OdeActivation activation,
                             Generator& gen)
    : activation_(activation) {
  std::vector<int64_t> w = widths(channels, hidden, hidden_layers);
  for (size_t i = 0; i + 1 < w.size(); ++i)
    layers_.push_back(register_module(std::to_string(i), std::make_shared<ConcatConv2d>(w[i], w[i + 1], gen)));
}

Tensor ConcatConvNet::forward(double t, const Tensor& z) {
  Tensor h = z;
  for (size_t i = 0; i < layers_.size(); ++i) {
    h = layers_[i]->forward(t, h);
    if (i + 1 < layers_.size()) h = activate(activation_, h);
  }
  return h;
}

}  // namespace ft::layers::flows
