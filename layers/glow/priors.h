#pragma once
#include <memory>

#include "framework/nn/linear.h"
#include "layers/glow/conv2d_zeros.h"

namespace ft::layers {

struct GaussianParams {
  Tensor mean, logs;
};

// Prior of the half split off between levels: a zero-initialised conv of the
// kept half gives mean = h[:, 0::2], logs = h[:, 1::2].
class SplitPrior : public nn::Module {
 public:
  explicit SplitPrior(int64_t kept_channels);
  GaussianParams forward(const Tensor& kept) const;
  std::shared_ptr<Conv2dZeros> conv;
};

// Prior at the top: h = zeros (or the learned zero-init conv of zeros), plus a
// zero-init linear of the one-hot labels when class-conditional; mean = h[:, :C],
// logs = h[:, C:].
class TopPrior : public nn::Module {
 public:
  TopPrior(int64_t channels, bool learn_top, int64_t num_classes, Generator& gen);
  // one_hot_labels: [n, num_classes] (one_hot below) when class-conditional, else undefined.
  GaussianParams forward(int64_t n, int64_t height, int64_t width, const Tensor& one_hot_labels, DType dtype,
                         Device device) const;
  std::shared_ptr<Conv2dZeros> conv;
  std::shared_ptr<nn::Linear> label_embedding;

 private:
  int64_t channels_, num_classes_;
};

// Float [N, num_classes] one-hot rows of i64 labels; throws on a label out of range.
Tensor one_hot(const Tensor& labels, int64_t num_classes, DType dtype);

}  // namespace ft::layers
