#include "layers/flows/dense_network.h"

#include <string>

#include "framework/ops/ops.h"
#include "layers/flows/transform.h"

namespace ft::layers::flows {

DenseNetwork::DenseNetwork(int64_t in_features, int64_t context_features, int64_t hidden, int64_t hidden_layers,
                           int64_t out_features, Generator& gen)
    : context_features_(context_features), hidden_(hidden) {
  FT_CHECK(hidden_layers >= 1, "a dense network needs at least one hidden layer, got {}", hidden_layers);
  int64_t width = in_features + context_features;
  for (int64_t i = 0; i <= hidden_layers; ++i) {
    int64_t out = i == hidden_layers ? out_features : hidden;
    layers_.push_back(register_module(std::to_string(i), std::make_shared<nn::Linear>(width, out, true, gen)));
    width = out;
  }
}

Tensor DenseNetwork::forward(const Tensor& x, const Tensor& context) const {
  check_context(context, context_features_, x);
  Tensor h = context.defined() ? concat({x, context.to(x.dtype())}, 1) : x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    h = layers_[i]->forward(h);
    if (i + 1 < layers_.size()) h = relu(h);
  }
  return h;
}

}  // namespace ft::layers::flows
