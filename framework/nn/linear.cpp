#include "framework/nn/linear.h"

#include <cmath>

#include "framework/ops/ops.h"

namespace ft::nn {

Linear::Linear(int64_t in_features, int64_t out_features, bool with_bias, Generator& gen, Init init) {
  FT_CHECK(in_features > 0 && out_features > 0, "Linear({}, {})", in_features, out_features);
  double bound = 1.0 / std::sqrt(double(in_features));
  weight = init == Init::zeros ? Tensor::zeros({out_features, in_features})
                               : uniform({out_features, in_features}, -bound, bound, gen);
  register_parameter("weight", &weight);
  if (with_bias) {
    bias = init == Init::zeros ? Tensor::zeros({out_features}) : uniform({out_features}, -bound, bound, gen);
    register_parameter("bias", &bias);
  }
}

Tensor Linear::forward(const Tensor& x) const { return linear(x, weight, bias); }

}  // namespace ft::nn
