#include "layers/glow/actnorm.h"

#include <cmath>

#include "framework/autograd/grad_mode.h"
#include "framework/ops/ops.h"

namespace ft::layers {

ActNorm::ActNorm(int64_t channels) {
  bias = Tensor::zeros({1, channels, 1, 1});
  logs = Tensor::zeros({1, channels, 1, 1});
  initialized = Tensor::zeros({});
  register_parameter("bias", &bias);
  register_parameter("logs", &logs);
  register_buffer("initialized", &initialized);
}

void ActNorm::initialize_from(const Tensor& x) {
  NoGradGuard no_grad;
  Tensor data = x.detach().to(DType::f64);
  // Two passes, each averaged over replicas: the global mean first, then the
  // variance around it (what one big batch would give when shards are equal).
  Tensor mean = ft::mean(data, {0, 2, 3}, true);
  if (averager_) averager_(mean);
  Tensor variance = ft::mean(square(sub(data, mean)), {0, 2, 3}, true);
  if (averager_) averager_(variance);
  Tensor new_logs = neg(log(add(sqrt(variance), 1e-6)));
  bias.copy_(neg(mean));
  logs.copy_(new_logs);
  initialized.fill_(1.0);
}

FlowResult ActNorm::forward(const Tensor& x) {
  FT_CHECK(x.dim() == 4 && x.size(1) == bias.size(1), "ActNorm of {} channels got input {}", bias.size(1),
           shape_str(x.shape()));
  if (training() && !is_initialized()) initialize_from(x);
  Tensor b = bias.to(x.dtype()), s = logs.to(x.dtype());
  Tensor y = channel_affine(x, b, s);  // (x + b) * exp(s), fused
  double pixels = double(x.size(2) * x.size(3));
  Tensor logdet = mul(sum(s), pixels).reshape({1}).expand({x.size(0)});
  return {y, logdet};
}

FlowResult ActNorm::inverse_with_logdet(const Tensor& y) {
  double pixels = double(y.size(2) * y.size(3));
  Tensor logdet = mul(sum(logs.to(y.dtype())), -pixels).reshape({1}).expand({y.size(0)});
  return {inverse(y), logdet};
}

Tensor ActNorm::inverse(const Tensor& y) {
  Tensor b = bias.to(y.dtype()), s = logs.to(y.dtype());
  return sub(mul(y, exp(neg(s))), b);
}

}  // namespace ft::layers
