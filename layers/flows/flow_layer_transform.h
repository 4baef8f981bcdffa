// Glow's image layers (layers/flow.h: squeeze, actnorm, invertible 1x1 convolution,
// affine coupling) used as Transforms of this library, so image flows (RealNVP,
// Flow++, multiscale stacks) reuse them instead of keeping second copies.
// A FlowLayer's inverse returns no log-determinant; the inverse here gets it by one
// more forward pass over the reconstructed input (-logdet of that pass), which is
// exact and costs one forward of the layer.
#pragma once
#include <memory>

#include "layers/flow.h"
#include "layers/flows/transform.h"

namespace ft::layers::flows {

class FlowLayerTransform : public Transform {
 public:
  explicit FlowLayerTransform(std::shared_ptr<FlowLayer> layer);
  TransformResult forward(const Tensor& x, const Tensor& context) override;
  TransformResult inverse(const Tensor& y, const Tensor& context) override;
  FlowLayer& layer() { return *layer_; }

 private:
  std::shared_ptr<FlowLayer> layer_;
};

}  // namespace ft::layers::flows
