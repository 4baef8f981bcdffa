#include "layers/flow.h"

#include "framework/ops/ops.h"

namespace ft::layers {

FlowResult FlowLayer::inverse_with_logdet(const Tensor& y) {
  Tensor x = inverse(y);
  Tensor logdet = forward(x).logdet;
  return {x, logdet.defined() ? neg(logdet) : Tensor::zeros({y.size(0)}, y.dtype(), y.device())};
}

Tensor add_logdet(const Tensor& total, const Tensor& term) {
  if (!total.defined()) return term;
  if (!term.defined()) return total;
  return add(total, term);
}

}  // namespace ft::layers
