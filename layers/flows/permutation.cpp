#include "layers/flows/permutation.h"

#include <numeric>

#include "framework/ops/ops.h"

namespace ft::layers::flows {

Permutation::Permutation(std::vector<int64_t> values) {
  int64_t n = int64_t(values.size());
  std::vector<int64_t> inverse(size_t(n), -1);
  for (int64_t i = 0; i < n; ++i) {
    int64_t v = values[size_t(i)];
    FT_CHECK(v >= 0 && v < n && inverse[size_t(v)] < 0, "permutation entry {} at {} is out of range or repeated", v, i);
    inverse[size_t(v)] = i;
  }
  order = Tensor::from_vector(values, {n});
  inverse_order_ = Tensor::from_vector(inverse, {n});
  register_buffer("order", &order);
  register_constant("inverse_order", &inverse_order_);
}

TransformResult Permutation::forward(const Tensor& x, const Tensor& context) {
  check_features(x, order.size(0), "permutation");
  (void)context;
  return {index_select(x, 1, order), Tensor::zeros({x.size(0)}, x.dtype(), x.device())};
}

TransformResult Permutation::inverse(const Tensor& y, const Tensor& context) {
  check_features(y, order.size(0), "permutation");
  (void)context;
  return {index_select(y, 1, inverse_order_), Tensor::zeros({y.size(0)}, y.dtype(), y.device())};
}

std::vector<int64_t> reverse_order(int64_t features) {
  std::vector<int64_t> order(static_cast<size_t>(features));
  std::iota(order.rbegin(), order.rend(), int64_t(0));
  return order;
}

std::vector<int64_t> random_order(int64_t features, Generator& gen) { return permutation(features, gen); }

}  // namespace ft::layers::flows
