#include "layers/flows/batch_norm.h"

#include <cmath>
#include <tuple>
#include <utility>

#include "framework/autograd/grad_mode.h"
#include "framework/ops/ops.h"

namespace ft::layers::flows {

BatchNormTransform::BatchNormTransform(int64_t features, double eps, double momentum)
    : eps_(eps), momentum_(momentum) {
  // softplus(raw) + eps = 1 at the start.
  raw_weight = Tensor::full({features}, std::log(std::exp(1.0 - eps) - 1.0));
  bias = Tensor::zeros({features});
  running_mean = Tensor::zeros({features});
  running_var = Tensor::ones({features});
  register_parameter("raw_weight", &raw_weight);
  register_parameter("bias", &bias);
  register_buffer("running_mean", &running_mean);
  register_buffer("running_var", &running_var);
}

Tensor BatchNormTransform::weight() const { return add(softplus(raw_weight), eps_); }

void BatchNormTransform::check_input(const Tensor& x) const {
  FT_CHECK(x.dim() >= 2 && x.size(1) == bias.size(0), "batch norm of {} features got input {}", bias.size(0),
           shape_str(x.shape()));
}

Tensor BatchNormTransform::per_feature(const Tensor& values, const Tensor& x) const {
  Shape shape(size_t(x.dim()), 1);
  shape[1] = bias.size(0);
  return values.to(x.dtype()).reshape(shape);
}

Tensor BatchNormTransform::logabsdet(const Tensor& variance, const Tensor& x) const {
  Tensor per_feature_logdet = sub(log(weight().to(variance.dtype())), mul(log(add(variance, eps_)), 0.5));
  double positions = double(x.numel() / (x.size(0) * x.size(1)));  // H * W for images, 1 for vectors
  return mul(sum(per_feature_logdet), positions).reshape({1}).expand({x.size(0)});
}

TransformResult BatchNormTransform::forward(const Tensor& x, const Tensor& context) {
  check_input(x);
  (void)context;
  Tensor mean = running_mean.to(x.dtype()), variance = running_var.to(x.dtype());
  if (training()) {
    std::tie(mean, variance) = batch_statistics(x);
    NoGradGuard no_grad;
    running_mean.copy_(add(mul(running_mean, 1.0 - momentum_), mul(mean.detach().to(running_mean.dtype()), momentum_)));
    running_var.copy_(add(mul(running_var, 1.0 - momentum_), mul(variance.detach().to(running_var.dtype()), momentum_)));
  }
  Tensor scale = per_feature(div(weight().to(x.dtype()), sqrt(add(variance, eps_))), x);
  Tensor z = add(mul(sub(x, per_feature(mean, x)), scale), per_feature(bias, x));
  return {z, logabsdet(variance, x)};
}

void BatchNormTransform::set_statistics_averager(StatisticsAverager averager, int64_t replicas) {
  FT_CHECK(replicas >= 1, "batch norm statistics over {} replicas", replicas);
  averager_ = std::move(averager);
  replicas_ = replicas;
}

std::pair<Tensor, Tensor> BatchNormTransform::batch_statistics(const Tensor& x) const {
  std::vector<int64_t> dims{0};
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  int64_t count = x.numel() / x.size(1);
  FT_CHECK(count * replicas_ > 1, "batch norm in training mode needs more than one value per feature, got input {}",
           shape_str(x.shape()));
  if (!averager_) {
    Tensor mean = ft::mean(x, dims);
    return {mean, mul(sum(square(sub(x, per_feature(mean, x))), dims), 1.0 / double(count - 1))};
  }
  // Two passes over the global batch, as the local formula: the mean, then the mean
  // square deviation from it, both averaged over the replicas' equal batches.
  Tensor mean = replica_average(ft::mean(x, dims), averager_);
  Tensor deviation = replica_average(ft::mean(square(sub(x, per_feature(mean, x))), dims), averager_);
  double total = double(count * replicas_);
  return {mean, mul(deviation, total / (total - 1.0))};
}

TransformResult BatchNormTransform::inverse(const Tensor& y, const Tensor& context) {
  check_input(y);
  (void)context;
  FT_CHECK(!training(), "batch norm inverts with running statistics only: call set_training(false) first");
  Tensor variance = running_var.to(y.dtype());
  Tensor scale = per_feature(div(sqrt(add(variance, eps_)), weight().to(y.dtype())), y);
  Tensor x = add(mul(sub(y, per_feature(bias, y)), scale), per_feature(running_mean, y));
  return {x, neg(logabsdet(variance, y))};
}

}  // namespace ft::layers::flows
