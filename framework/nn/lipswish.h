// LipSwish (Chen et al. 2019, Residual Flows): x * sigmoid(beta x) / 1.1 with
// beta = softplus(beta_parameter). Swish's slope never exceeds 1.1 for any beta > 0, so
// the division makes it 1-Lipschitz; a learned beta keeps it between linear
// (beta -> 0, slope 1/2.2) and ReLU-like (beta -> inf). beta_parameter starts at 0.5.
#pragma once
#include "framework/nn/module.h"

namespace ft::nn {

class LipSwish : public Module {
 public:
  LipSwish();
  Tensor forward(const Tensor& x) const;
  Tensor beta_parameter;  // [1]
};

}  // namespace ft::nn
