#include "layers/flows/logit.h"

#include <cmath>

#include "framework/ops/ops.h"

namespace ft::layers::flows {

LogitTransform::LogitTransform(double alpha) : alpha_(alpha) {
  FT_CHECK(alpha >= 0.0 && alpha < 0.5, "logit alpha must be in [0, 0.5), got {}", alpha);
}

TransformResult LogitTransform::forward(const Tensor& x, const Tensor& context) {
  (void)context;
  Tensor p = add(mul(x, 1.0 - 2.0 * alpha_), alpha_);
  Tensor log_p = log(p), log_q = log(add(neg(p), 1.0));
  Tensor per_element = neg(add(log_p, log_q));
  return {sub(log_p, log_q), add(sum_except_batch(per_element), double(x.numel() / x.size(0)) * std::log1p(-2.0 * alpha_))};
}

TransformResult LogitTransform::inverse(const Tensor& y, const Tensor& context) {
  (void)context;
  // p = sigmoid(y); log p + log(1 - p) = log_sigmoid(y) + log_sigmoid(-y), stable for large |y|.
  Tensor x = mul(add(sigmoid(y), -alpha_), 1.0 / (1.0 - 2.0 * alpha_));
  Tensor per_element = add(log_sigmoid(y), log_sigmoid(neg(y)));
  return {x, add(sum_except_batch(per_element), -double(y.numel() / y.size(0)) * std::log1p(-2.0 * alpha_))};
}

}  // namespace ft::layers::flows
