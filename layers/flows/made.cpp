#include "layers/flows/made.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "framework/ops/ops.h"
#include "layers/flows/transform.h"

namespace ft::layers::flows {

MaskedLinear::MaskedLinear(const std::vector<int64_t>& in_degrees, const std::vector<int64_t>& out_degrees,
                           bool is_output, Generator& gen) {
  int64_t in = int64_t(in_degrees.size()), out = int64_t(out_degrees.size());
  nn::Linear init(in, out, true, gen);  // PyTorch's default initialisation
  weight = init.weight.detach();
  bias = init.bias.detach();
  register_parameter("weight", &weight);
  register_parameter("bias", &bias);
  std::vector<double> mask(size_t(in * out));
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < in; ++i) {
      int64_t od = out_degrees[size_t(o)], id = in_degrees[size_t(i)];
      mask[size_t(o * in + i)] = (is_output ? od > id : od >= id) ? 1.0 : 0.0;
    }
  mask_ = Tensor::from_vector(mask, {out, in}).to(DType::f32);
  register_constant("mask", &mask_);
}

Tensor MaskedLinear::forward(const Tensor& x) const {
  return linear(x, mul(weight, mask_.to(weight.dtype())), bias);
}

MADE::MADE(int64_t features, int64_t hidden, int64_t hidden_layers, int64_t output_multiplier,
           int64_t context_features, Generator& gen)
    : features_(features), hidden_(hidden), context_features_(context_features) {
  FT_CHECK(features >= 1 && hidden >= 1 && hidden_layers >= 1 && output_multiplier >= 1,
           "MADE({} features, {} hidden, {} layers, x{})", features, hidden, hidden_layers, output_multiplier);
  std::vector<int64_t> inputs(static_cast<size_t>(features)), hidden_degrees(static_cast<size_t>(hidden)), outputs;
  for (int64_t i = 0; i < features; ++i) inputs[size_t(i)] = i + 1;
  int64_t period = std::max<int64_t>(1, features - 1), lowest = std::min<int64_t>(1, features - 1);
  for (int64_t k = 0; k < hidden; ++k) hidden_degrees[size_t(k)] = k % period + lowest;
  for (int64_t i = 0; i < features; ++i)
    for (int64_t m = 0; m < output_multiplier; ++m) outputs.push_back(i + 1);
  std::vector<int64_t> previous = inputs;
  for (int64_t l = 0; l < hidden_layers; ++l) {
    layers_.push_back(register_module(std::to_string(l), std::make_shared<MaskedLinear>(previous, hidden_degrees, false, gen)));
    previous = hidden_degrees;
  }
  layers_.push_back(register_module(std::to_string(hidden_layers),
                                    std::make_shared<MaskedLinear>(previous, outputs, true, gen)));
  if (context_features > 0)
    context_layer_ = register_module("context_layer", std::make_shared<nn::Linear>(context_features, hidden, true, gen));
}

Tensor MADE::forward(const Tensor& x, const Tensor& context) const {
  check_features(x, features_, "MADE");
  check_context(context, context_features_, x);
  Tensor h = layers_[0]->forward(x);
  if (context_layer_) h = add(h, relu(context_layer_->forward(context.to(x.dtype()))));
  for (size_t l = 1; l < layers_.size(); ++l) h = layers_[l]->forward(relu(h));
  return h;
}

}  // namespace ft::layers::flows
