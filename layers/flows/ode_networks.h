// The time-dependent networks f(t, z) a continuous flow integrates (FFJORD's
// ODEnet, Grathwohl et al. 2019), in FFJORD's layer types:
//   ConcatSquashLinear  layer(x) * sigmoid(gate(t)) + bias(t), gate and bias linear
//                       maps of t (the bias without a bias of its own): vectors.
//   ConcatConv2d        a 3x3 convolution of [t, x] (t broadcast as an extra first
//                       channel): images.
// Between layers tanh or softplus; none after the last. Every op has a double
// backward, so a trace estimated by a vector-Jacobian product trains.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "framework/nn/conv2d.h"
#include "framework/nn/linear.h"
#include "framework/random/generator.h"

namespace ft::layers::flows {

enum class OdeActivation { tanh, softplus };
OdeActivation parse_ode_activation(const std::string& name, const std::string& key);

class OdeNetwork : public nn::Module {
 public:
  // dz/dt at time t, shaped as z.
  virtual Tensor forward(double t, const Tensor& z) = 0;
};

class ConcatSquashLinear : public nn::Module {
 public:
  ConcatSquashLinear(int64_t in_features, int64_t out_features, Generator& gen);
  Tensor forward(double t, const Tensor& x) const;

 private:
  std::shared_ptr<nn::Linear> layer_, gate_, bias_;
};

class ConcatConv2d : public nn::Module {
 public:
  ConcatConv2d(int64_t in_channels, int64_t out_channels, Generator& gen);
  Tensor forward(double t, const Tensor& x) const;

 private:
  std::shared_ptr<nn::Conv2d> conv_;
};

// [N, D] -> [N, D] through widths D, hidden..., D (layers "0", "1", ...).
class ConcatSquashMlp : public OdeNetwork {
 public:
  ConcatSquashMlp(int64_t features, int64_t hidden, int64_t hidden_layers, OdeActivation activation, Generator& gen);
  Tensor forward(double t, const Tensor& z) override;

 private:
  std::vector<std::shared_ptr<ConcatSquashLinear>> layers_;
  OdeActivation activation_;
};

// [N, C, H, W] -> same, through channels C, hidden..., C.
class ConcatConvNet : public OdeNetwork {
 public:
  ConcatConvNet(int64_t channels, int64_t hidden, int64_t hidden_layers, OdeActivation activation, Generator& gen);
  Tensor forward(double t, const Tensor& z) override;

 private:
  std::vector<std::shared_ptr<ConcatConv2d>> layers_;
  OdeActivation activation_;
};

}  // namespace ft::layers::flows
