// Batch normalisation as a flow layer (RealNVP; nflows' BatchNorm) over [N, D]:
// z = weight * (x - mean) / sqrt(var + eps) + bias, weight = softplus(raw) + eps,
// logabsdet = sum(log weight - 0.5 log(var + eps)). Training: the batch's mean and
// unbiased variance (treated as constants per example in the log-determinant, as
// nflows), and running statistics updated with `momentum`; eval: the running ones.
// The inverse needs fixed statistics, so it runs in eval mode only. Running
// statistics start at mean 0, variance 1 (PyTorch's BatchNorm; nflows starts at 0).
#pragma once
#include "layers/flows/transform.h"

namespace ft::layers::flows {

class BatchNormTransform : public Transform {
 public:
  explicit BatchNormTransform(int64_t features, double eps = 1e-5, double momentum = 0.1);
  TransformResult forward(const Tensor& x, const Tensor& context) override;
  TransformResult inverse(const Tensor& y, const Tensor& context) override;
  Tensor weight() const;
  Tensor raw_weight, bias;         // parameters [D]
  Tensor running_mean, running_var;  // buffers [D]

 private:
  Tensor logabsdet(const Tensor& variance, int64_t n) const;
  double eps_, momentum_;
};

}  // namespace ft::layers::flows
