#include "layers/flows/coupling.h"

#include <cmath>

#include "framework/ops/ops.h"
#include "layers/flows/rational_quadratic.h"

namespace ft::layers::flows {

std::vector<int> alternating_mask(int64_t features, bool even) {
  std::vector<int> mask(size_t(features), 0);
  for (int64_t i = even ? 0 : 1; i < features; i += 2) mask[size_t(i)] = 1;
  return mask;
}

CouplingTransform::CouplingTransform(std::vector<int> mask, CouplingKind kind, int64_t hidden, int64_t hidden_layers,
                                     int64_t context_features, Generator& gen, SplineOptions spline)
    : kind_(kind), spline_(spline), features_(int64_t(mask.size())) {
  std::vector<int64_t> identity, transformed;
  for (int64_t i = 0; i < features_; ++i) (mask[size_t(i)] > 0 ? transformed : identity).push_back(i);
  FT_CHECK(!identity.empty() && !transformed.empty(), "a coupling mask of {} features needs both kinds of entry",
           features_);
  transformed_count_ = int64_t(transformed.size());
  // merge_index: where each feature sits in concat(identity, transformed).
  std::vector<int64_t> merge(static_cast<size_t>(features_));
  for (size_t i = 0; i < identity.size(); ++i) merge[size_t(identity[i])] = int64_t(i);
  for (size_t i = 0; i < transformed.size(); ++i) merge[size_t(transformed[i])] = int64_t(identity.size() + i);
  identity_index_ = Tensor::from_vector(identity, {int64_t(identity.size())});
  transform_index_ = Tensor::from_vector(transformed, {transformed_count_});
  merge_index_ = Tensor::from_vector(merge, {features_});
  register_constant("identity_index", &identity_index_);
  register_constant("transform_index", &transform_index_);
  register_constant("merge_index", &merge_index_);
  int64_t per_element = kind == CouplingKind::affine               ? 2
                        : kind == CouplingKind::rational_quadratic ? spline_parameters(spline.bins)
                                                                   : 1;
  int64_t outputs = per_element * transformed_count_;
  conditioner = register_module("conditioner", std::make_shared<DenseNetwork>(int64_t(identity.size()), context_features,
                                                                             hidden, hidden_layers, outputs, gen));
}

CouplingTransform::ScaleShift CouplingTransform::scale_and_shift(const Tensor& identity, const Tensor& context) const {
  Tensor params = conditioner->forward(identity, context);
  if (kind_ == CouplingKind::additive) return {Tensor(), params};
  auto halves = chunk(params, 2, 1);
  return {log(add(sigmoid(add(halves[1], 2.0)), 1e-3)), halves[0]};
}

Tensor CouplingTransform::merge(const Tensor& identity, const Tensor& transformed) const {
  return index_select(concat({identity, transformed}, 1), 1, merge_index_);
}

Tensor scale_spline_parameters(const Tensor& params, int64_t bins, int64_t hidden) {
  int64_t last = params.dim() - 1;
  double scale = 1.0 / std::sqrt(double(hidden));
  return concat({mul(params.slice(last, 0, 2 * bins), scale), params.slice(last, 2 * bins, params.size(last))}, last);
}

TransformResult CouplingTransform::spline(const Tensor& input, const Tensor& context, bool inverse) const {
  Tensor identity = index_select(input, 1, identity_index_);
  Tensor part = index_select(input, 1, transform_index_);
  Tensor params = conditioner->forward(identity, context).reshape({input.size(0), transformed_count_, -1});
  params = scale_spline_parameters(params, spline_.bins, conditioner->hidden_features());
  ElementwiseResult r = rational_quadratic_spline(part, params, spline_.bins, spline_.tail_bound, inverse);
  return {merge(identity, r.y), sum_except_batch(r.logabsdet)};
}

TransformResult CouplingTransform::forward(const Tensor& x, const Tensor& context) {
  check_features(x, features_, "coupling");
  if (kind_ == CouplingKind::rational_quadratic) return spline(x, context, false);
  Tensor identity = index_select(x, 1, identity_index_);
  Tensor part = index_select(x, 1, transform_index_);
  ScaleShift p = scale_and_shift(identity, context);
  if (!p.log_scale.defined())
    return {merge(identity, add(part, p.shift)), Tensor::zeros({x.size(0)}, x.dtype(), x.device())};
  Tensor z = add(mul(part, exp(p.log_scale)), p.shift);
  return {merge(identity, z), sum_except_batch(p.log_scale)};
}

TransformResult CouplingTransform::inverse(const Tensor& y, const Tensor& context) {
  check_features(y, features_, "coupling");
  if (kind_ == CouplingKind::rational_quadratic) return spline(y, context, true);
  Tensor identity = index_select(y, 1, identity_index_);
  Tensor part = index_select(y, 1, transform_index_);
  ScaleShift p = scale_and_shift(identity, context);
  if (!p.log_scale.defined())
    return {merge(identity, sub(part, p.shift)), Tensor::zeros({y.size(0)}, y.dtype(), y.device())};
  Tensor x = mul(sub(part, p.shift), exp(neg(p.log_scale)));
  return {merge(identity, x), neg(sum_except_batch(p.log_scale))};
}

}  // namespace ft::layers::flows
