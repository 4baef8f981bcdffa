// Glow's image layers (layers/flow.h: squeeze, actnorm, invertible 1x1 convolution,
// affine coupling) used as Transforms of this library, so image flows (RealNVP,
// Flow++, multiscale stacks) reuse them instead of keeping second copies.
// The inverse's log-determinant is the layer's inverse_with_logdet: Glow's layers
// give it from y at no extra cost; others by one more forward (layers/flow.h).
#pragma once
#include <memory>
#include <string>

#include "layers/flow.h"
#include "layers/flows/transform.h"

namespace ft::layers::flows {

class FlowLayerTransform : public Transform {
 public:
  // The layer is registered under its kind().
  explicit FlowLayerTransform(std::shared_ptr<FlowLayer> layer);
  // Under `name`; "" keeps the layer's own parameter names (a model whose names a
  // checkpoint format fixed, as Glow's steps).
  FlowLayerTransform(std::shared_ptr<FlowLayer> layer, const std::string& name);
  TransformResult forward(const Tensor& x, const Tensor& context) override;
  TransformResult inverse(const Tensor& y, const Tensor& context) override;
  FlowLayer& layer() { return *layer_; }

 private:
  std::shared_ptr<FlowLayer> layer_;
};

}  // namespace ft::layers::flows
