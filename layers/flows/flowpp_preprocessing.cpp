#include "layers/flows/flowpp_preprocessing.h"

#include <cmath>

#include "framework/ops/ops.h"

namespace ft::layers::flows {

namespace {

constexpr double kSlope = (1.0 - 2.0 * FlowppPreprocessing::kMargin) / FlowppPreprocessing::kMaxValue;

// Per example: D log(slope) + sum(log p + log(1 - p)) is log|dx/dy|; with log p and
// log(1 - p) given as log_sigmoid(+-y), which stay finite for any logit.
Tensor log_slope_minus(const Tensor& log_p_and_complement, int64_t dims) {
  return sub(Tensor::full({log_p_and_complement.size(0)}, double(dims) * std::log(kSlope),
                          log_p_and_complement.dtype(), log_p_and_complement.device()),
             log_p_and_complement);
}

int64_t dims_per_example(const Tensor& x) { return x.numel() / x.size(0); }

}  // namespace

TransformResult FlowppPreprocessing::forward(const Tensor& x, const Tensor& context) {
  check_context(context, 0, x);
  Tensor p = add(mul(x, kSlope), kMargin);
  Tensor log_p = log(p), log_complement = log(add(neg(p), 1.0));
  Tensor y = sub(log_p, log_complement);
  return {y, log_slope_minus(sum_except_batch(add(log_p, log_complement)), dims_per_example(x))};
}

TransformResult FlowppPreprocessing::inverse(const Tensor& y, const Tensor& context) {
  check_context(context, 0, y);
  Tensor x = mul(add(sigmoid(y), -kMargin), 1.0 / kSlope);
  Tensor forward_logdet =
      log_slope_minus(sum_except_batch(add(log_sigmoid(y), log_sigmoid(neg(y)))), dims_per_example(y));
  return {x, neg(forward_logdet)};
}

}  // namespace ft::layers::flows
