#include "layers/flows/flow_layer_transform.h"

#include "framework/ops/ops.h"

namespace ft::layers::flows {

namespace {

Tensor logdet_or_zeros(const Tensor& logdet, const Tensor& like) {
  return logdet.defined() ? logdet : Tensor::zeros({like.size(0)}, like.dtype(), like.device());
}

}  // namespace

FlowLayerTransform::FlowLayerTransform(std::shared_ptr<FlowLayer> layer) : FlowLayerTransform(layer, layer->kind()) {}

FlowLayerTransform::FlowLayerTransform(std::shared_ptr<FlowLayer> layer, const std::string& name)
    : layer_(std::move(layer)) {
  register_module(name, layer_);
}

TransformResult FlowLayerTransform::forward(const Tensor& x, const Tensor& context) {
  (void)context;  // unconditional inside a conditional composite, as the other transforms
  FlowResult r = layer_->forward(x);
  return {r.y, logdet_or_zeros(r.logdet, x)};
}

TransformResult FlowLayerTransform::inverse(const Tensor& y, const Tensor& context) {
  (void)context;
  FlowResult r = layer_->inverse_with_logdet(y);
  return {r.y, logdet_or_zeros(r.logdet, y)};
}

}  // namespace ft::layers::flows
