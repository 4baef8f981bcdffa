#include "layers/tarflow/tarflow_transforms.h"

#include "framework/ops/ops.h"
#include "layers/tarflow/patchify.h"

namespace ft::layers {

namespace {

Tensor zeros_like_batch(const Tensor& x) { return Tensor::zeros({x.size(0)}, x.dtype(), x.device()); }

}  // namespace

flows::TransformResult PatchifyTransform::forward(const Tensor& x, const Tensor& context) {
  (void)context;
  FT_CHECK(x.dim() == 4 && x.size(1) == channels_ && x.size(2) == image_size_ && x.size(3) == image_size_,
           "tarflow input {} (expected [N, {}, {}, {}])", shape_str(x.shape()), channels_, image_size_, image_size_);
  return {patchify(x, patch_size_), zeros_like_batch(x)};
}

flows::TransformResult PatchifyTransform::inverse(const Tensor& y, const Tensor& context) {
  (void)context;
  return {unpatchify(y, channels_, image_size_, patch_size_), zeros_like_batch(y)};
}

TarflowBlockTransform::TarflowBlockTransform(std::shared_ptr<TarflowBlock> block) : block_(std::move(block)) {
  register_module("", block_);
}

Tensor TarflowBlockTransform::labels_of(const Tensor& context, const Tensor& x) const {
  int64_t classes = block_->config().num_classes;
  if (classes == 0 || !context.defined()) return Tensor();
  flows::check_context(context, classes, x);
  return labels_of_context(context);
}

flows::TransformResult TarflowBlockTransform::forward(const Tensor& x, const Tensor& context) {
  FlowResult r = block_->forward(x, labels_of(context, x));
  return {r.y, r.logdet};
}

flows::TransformResult TarflowBlockTransform::inverse(const Tensor& y, const Tensor& context) {
  Tensor labels = labels_of(context, y);
  Tensor x = block_->inverse(y, labels);
  return {x, neg(block_->forward(x, labels).logdet)};
}

Tensor label_context(const Tensor& labels, int64_t num_classes, DType dtype) {
  if (!labels.defined()) return Tensor();
  std::vector<int64_t> values = labels.to(Device::cpu()).to_vector<int64_t>();
  Tensor out = Tensor::zeros({int64_t(values.size()), num_classes}, DType::f64);
  double* p = out.data<double>();
  for (size_t i = 0; i < values.size(); ++i) {
    FT_CHECK(values[i] >= -1 && values[i] < num_classes, "label {} of example {} is outside [-1, {})", values[i], i,
             num_classes);
    if (values[i] >= 0) p[i * size_t(num_classes) + size_t(values[i])] = 1.0;
  }
  return out.to(dtype).to(labels.device());
}

Tensor labels_of_context(const Tensor& context) {
  FT_CHECK(context.dim() == 2, "a label context is [N, classes], got {}", shape_str(context.shape()));
  int64_t rows = context.size(0), classes = context.size(1);
  std::vector<double> values = context.to(Device::cpu()).to_double_vector();
  std::vector<int64_t> labels(static_cast<size_t>(rows), -1);
  for (int64_t i = 0; i < rows; ++i) {
    int64_t ones = 0;
    for (int64_t c = 0; c < classes; ++c) {
      double v = values[size_t(i * classes + c)];
      FT_CHECK(v == 0.0 || v == 1.0, "label context row {} holds {}: expected one-hot or zeros", i, v);
      if (v == 1.0) labels[size_t(i)] = c, ++ones;
    }
    FT_CHECK(ones <= 1, "label context row {} has {} ones: expected one-hot or zeros", i, ones);
  }
  return Tensor::from_vector(labels, {rows}).to(context.device());
}

}  // namespace ft::layers
