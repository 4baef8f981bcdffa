#include "layers/flows/transform.h"

#include <string>

#include "framework/autograd/recompute.h"
#include "framework/ops/ops.h"
#include "layers/flow.h"

namespace ft::layers::flows {

namespace {

NamedTransforms numbered(const std::vector<std::shared_ptr<Transform>>& transforms) {
  NamedTransforms named;
  for (size_t i = 0; i < transforms.size(); ++i) named.emplace_back(std::to_string(i), transforms[i]);
  return named;
}

TransformResult forward_recomputed(const std::shared_ptr<Transform>& transform, const Tensor& x,
                                   const Tensor& context) {
  auto segment = [transform](const std::vector<Tensor>& in) {
    TransformResult r = transform->forward(in[0], in[1]);
    return std::vector<Tensor>{r.y, r.logabsdet};
  };
  std::vector<Tensor> out = recomputed(segment, {x, context}, transform->parameters());
  return {out[0], out[1]};
}

}  // namespace

CompositeTransform::CompositeTransform(std::vector<std::shared_ptr<Transform>> transforms)
    : CompositeTransform(numbered(transforms)) {}

CompositeTransform::CompositeTransform(const NamedTransforms& transforms) {
  for (const auto& [name, transform] : transforms) transforms_.push_back(register_module(name, transform));
}

TransformResult CompositeTransform::forward(const Tensor& x, const Tensor& context) {
  TransformResult total{x, Tensor::zeros({x.size(0)}, x.dtype(), x.device())};
  for (auto& t : transforms_) {
    TransformResult step = recompute_ && !t->parameters().empty() ? forward_recomputed(t, total.y, context)
                                                                  : t->forward(total.y, context);
    total = {step.y, add_logdet(total.logabsdet, step.logabsdet)};
  }
  return total;
}

TransformResult CompositeTransform::inverse(const Tensor& y, const Tensor& context) {
  TransformResult total{y, Tensor::zeros({y.size(0)}, y.dtype(), y.device())};
  for (auto it = transforms_.rbegin(); it != transforms_.rend(); ++it) {
    TransformResult step = (*it)->inverse(total.y, context);
    total = {step.y, add_logdet(total.logabsdet, step.logabsdet)};
  }
  return total;
}

InverseTransform::InverseTransform(std::shared_ptr<Transform> transform) : inner_(std::move(transform)) {
  register_module("inverted", inner_);
}

void check_context(const Tensor& context, int64_t features, const Tensor& x) {
  if (features == 0) {
    FT_CHECK(!context.defined(), "a transform without context got a context of shape {}", shape_str(context.shape()));
    return;
  }
  FT_CHECK(context.defined(), "a conditional transform needs a context of [{}, {}], got none", x.size(0), features);
  FT_CHECK(context.dim() == 2 && context.size(0) == x.size(0) && context.size(1) == features,
           "context of shape {} where [{}, {}] was expected", shape_str(context.shape()), x.size(0), features);
}

void check_features(const Tensor& x, int64_t features, const char* who) {
  FT_CHECK(x.dim() == 2 && x.size(1) == features, "{} of {} features got input {}", who, features,
           shape_str(x.shape()));
}

Tensor sum_except_batch(const Tensor& x) {
  std::vector<int64_t> dims;
  for (int64_t d = 1; d < x.dim(); ++d) dims.push_back(d);
  return dims.empty() ? x : sum(x, dims);
}

}  // namespace ft::layers::flows
