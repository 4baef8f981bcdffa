// MADE (Germain et al. 2015) with nflows' degrees: inputs 1..D; hidden unit k has
// degree k % max(1, D-1) + min(1, D-1) and sees inputs of degree <= its own; output
// j (feature j / multiplier, parameter j % multiplier) sees hidden degrees < its
// feature's. Context, when given, enters as nflows: h0 = W0 x + relu(Wc c).
#pragma once
#include <memory>
#include <vector>

#include "framework/nn/linear.h"

namespace ft::layers::flows {

// Linear with a fixed 0/1 mask on its weight [out, in].
class MaskedLinear : public nn::Module {
 public:
  MaskedLinear(const std::vector<int64_t>& in_degrees, const std::vector<int64_t>& out_degrees, bool is_output,
               Generator& gen);
  Tensor forward(const Tensor& x) const;
  Tensor weight, bias;

 private:
  Tensor mask_;
};

class MADE : public nn::Module {
 public:
  MADE(int64_t features, int64_t hidden, int64_t hidden_layers, int64_t output_multiplier, int64_t context_features,
       Generator& gen);
  // [N, D] -> [N, D * output_multiplier], element-major (feature, parameter).
  Tensor forward(const Tensor& x, const Tensor& context) const;
  int64_t features() const { return features_; }
  int64_t hidden_features() const { return hidden_; }
  int64_t context_features() const { return context_features_; }

 private:
  std::vector<std::shared_ptr<MaskedLinear>> layers_;
  std::shared_ptr<nn::Linear> context_layer_;
  int64_t features_, hidden_, context_features_;
};

}  // namespace ft::layers::flows
