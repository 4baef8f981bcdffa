// Batch normalisation as a flow layer (RealNVP; nflows' BatchNorm) over vectors [N, D]
// or images [N, C, H, W] (features = dim 1; statistics over every other dim, so an
// image layer normalises per channel):
//   z = weight * (x - mean) / sqrt(var + eps) + bias, weight = softplus(raw) + eps,
//   logabsdet = (H * W) * sum over features of (log weight - 0.5 log(var + eps)).
// Training: the batch's mean and unbiased variance (treated as constants per example
// in the log-determinant, as nflows), and running statistics updated with `momentum`;
// eval: the running ones. The inverse needs fixed statistics, so it runs in eval mode
// only. Running statistics are buffers (checkpoints keep them) and start at mean 0,
// variance 1 (PyTorch's BatchNorm; nflows starts at 0). RealNVP's conditioner networks
// use this layer's z as their normalisation too (its logabsdet unused there).
#pragma once
#include "layers/flow.h"
#include "layers/flows/transform.h"

namespace ft::layers::flows {

class BatchNormTransform : public Transform {
 public:
  explicit BatchNormTransform(int64_t features, double eps = 1e-5, double momentum = 0.1);
  TransformResult forward(const Tensor& x, const Tensor& context) override;
  TransformResult inverse(const Tensor& y, const Tensor& context) override;
  Tensor weight() const;
  // Synchronised batch norm: training statistics over the whole global batch of all
  // `replicas` (equal local batches), averaged by `averager`, with gradients through
  // them (ops::replica_average), so a run's numbers do not depend on its world size.
  void set_statistics_averager(StatisticsAverager averager, int64_t replicas);
  Tensor raw_weight, bias;         // parameters [D]
  Tensor running_mean, running_var;  // buffers [D]

 private:
  void check_input(const Tensor& x) const;
  // A [D] tensor as [1, D, 1, ...] to broadcast over x's features dim.
  Tensor per_feature(const Tensor& values, const Tensor& x) const;
  Tensor logabsdet(const Tensor& variance, const Tensor& x) const;
  std::pair<Tensor, Tensor> batch_statistics(const Tensor& x) const;  // mean, unbiased variance
  double eps_, momentum_;
  StatisticsAverager averager_;
  int64_t replicas_ = 1;
};

}  // namespace ft::layers::flows
