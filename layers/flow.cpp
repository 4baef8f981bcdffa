#include "layers/flow.h"

#include "framework/ops/ops.h"

namespace ft::layers {

Tensor add_logdet(const Tensor& total, const Tensor& term) {
  if (!total.defined()) return term;
  if (!term.defined()) return total;
  return add(total, term);
}

}  // namespace ft::layers
