// The conditioner of couplings and the context encoder of conditional bases: an MLP
// Linear -> ReLU -> ... -> Linear over concat(x, context) (context optional).
#pragma once
#include <memory>
#include <vector>

#include "framework/nn/linear.h"

namespace ft::layers::flows {

class DenseNetwork : public nn::Module {
 public:
  // hidden_layers >= 1 hidden layers of `hidden` units.
  DenseNetwork(int64_t in_features, int64_t context_features, int64_t hidden, int64_t hidden_layers,
               int64_t out_features, Generator& gen);
  Tensor forward(const Tensor& x, const Tensor& context) const;
  int64_t hidden_features() const { return hidden_; }
  int64_t context_features() const { return context_features_; }

 private:
  std::vector<std::shared_ptr<nn::Linear>> layers_;
  int64_t context_features_, hidden_;
};

}  // namespace ft::layers::flows
