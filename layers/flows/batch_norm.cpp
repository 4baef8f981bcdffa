#include "layers/flows/batch_norm.h"

#include <cmath>

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

Tensor BatchNormTransform::logabsdet(const Tensor& variance, int64_t n) const {
  Tensor per_feature = sub(log(weight().to(variance.dtype())), mul(log(add(variance, eps_)), 0.5));
  return sum(per_feature).reshape({1}).expand({n});
}

TransformResult BatchNormTransform::forward(const Tensor& x, const Tensor& context) {
  check_features(x, bias.size(0), "batch norm");
  (void)context;
  Tensor mean = running_mean.to(x.dtype()), variance = running_var.to(x.dtype());
  if (training()) {
    FT_CHECK(x.size(0) > 1, "batch norm in training mode needs more than one example, got {}", x.size(0));
    double n = double(x.size(0));
    mean = ft::mean(x, {0});
    variance = mul(sum(square(sub(x, mean)), {0}), 1.0 / (n - 1.0));
    NoGradGuard no_grad;
    running_mean.copy_(add(mul(running_mean, 1.0 - momentum_), mul(mean.detach().to(running_mean.dtype()), momentum_)));
    running_var.copy_(add(mul(running_var, 1.0 - momentum_), mul(variance.detach().to(running_var.dtype()), momentum_)));
  }
  Tensor w = weight().to(x.dtype());
  Tensor z = add(mul(div(sub(x, mean), sqrt(add(variance, eps_))), w), bias.to(x.dtype()));
  return {z, logabsdet(variance, x.size(0))};
}

TransformResult BatchNormTransform::inverse(const Tensor& y, const Tensor& context) {
  check_features(y, bias.size(0), "batch norm");
  (void)context;
  FT_CHECK(!training(), "batch norm inverts with running statistics only: call set_training(false) first");
  Tensor variance = running_var.to(y.dtype());
  Tensor x = add(mul(div(sub(y, bias.to(y.dtype())), weight().to(y.dtype())), sqrt(add(variance, eps_))),
                 running_mean.to(y.dtype()));
  return {x, neg(logabsdet(variance, y.size(0)))};
}

}  // namespace ft::layers::flows
