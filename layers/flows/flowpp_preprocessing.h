// Flow++'s input map (aravindsrinivas/flowpp ImgProc): dequantized pixels x in [0, 256]
// (integer values plus noise in [0, 1)) to logit space,
//     y = logit(0.05 + 0.9 x / 256),
//     log|dy/dx| = sum log(0.9 / 256) - log p - log(1 - p),  p = 0.05 + 0.9 x / 256,
// so log p(x) of a flow that starts with it is a density over pixel units: bits per
// dimension are -log p(x) / (D ln 2), with no log-bin term (bins_per_unit = 1).
#pragma once
#include "layers/flows/transform.h"

namespace ft::layers::flows {

class FlowppPreprocessing : public Transform {
 public:
  static constexpr double kMaxValue = 256.0, kMargin = 0.05;
  TransformResult forward(const Tensor& x, const Tensor& context) override;
  TransformResult inverse(const Tensor& y, const Tensor& context) override;
};

}  // namespace ft::layers::flows
