#include "layers/glow/priors.h"

#include "framework/ops/ops.h"
#include "layers/glow/coupling.h"

namespace ft::layers {

SplitPrior::SplitPrior(int64_t kept_channels) {
  conv = register_module("conv", std::make_shared<Conv2dZeros>(kept_channels, 2 * kept_channels));
}

GaussianParams SplitPrior::forward(const Tensor& kept) const {
  auto [mean, logs] = interleaved_halves(conv->forward(kept));
  return {mean, logs};
}

TopPrior::TopPrior(int64_t channels, bool learn_top, int64_t num_classes, Generator& gen)
    : channels_(channels), num_classes_(num_classes) {
  if (learn_top) conv = register_module("conv", std::make_shared<Conv2dZeros>(2 * channels, 2 * channels));
  if (num_classes > 0)
    label_embedding = register_module("label_embedding",
                                      std::make_shared<nn::Linear>(num_classes, 2 * channels, true, gen, nn::Init::zeros));
}

GaussianParams TopPrior::forward(int64_t n, int64_t height, int64_t width, const Tensor& one_hot_labels,
                                 DType dtype, Device device) const {
  Tensor h = conv ? conv->forward_zeros(n, height, width, dtype)
                  : Tensor::zeros({n, 2 * channels_, height, width}, dtype, device);
  if (label_embedding) {
    FT_CHECK(one_hot_labels.defined() && one_hot_labels.dim() == 2 && one_hot_labels.size(0) == n &&
                 one_hot_labels.size(1) == num_classes_,
             "a class-conditional top prior needs one-hot labels [{}, {}], got {}", n, num_classes_,
             one_hot_labels.defined() ? shape_str(one_hot_labels.shape()) : std::string("none"));
    Tensor embedding = label_embedding->forward(one_hot_labels);
    h = add(h, embedding.reshape({n, 2 * channels_, 1, 1}));
  }
  auto halves = chunk(h, 2, 1);
  return {halves[0], halves[1]};
}

Tensor one_hot(const Tensor& labels, int64_t num_classes, DType dtype) {
  std::vector<int64_t> values = labels.to_vector<int64_t>();
  Tensor out = Tensor::zeros({int64_t(values.size()), num_classes}, DType::f64);
  double* p = out.data<double>();
  for (size_t i = 0; i < values.size(); ++i) {
    FT_CHECK(values[i] >= 0 && values[i] < num_classes, "label {} outside [0, {})", values[i], num_classes);
    p[i * size_t(num_classes) + size_t(values[i])] = 1.0;
  }
  return out.to(dtype).to(labels.device());
}

}  // namespace ft::layers
