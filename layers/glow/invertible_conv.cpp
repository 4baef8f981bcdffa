#include "layers/glow/invertible_conv.h"

#include "framework/autograd/grad_mode.h"
#include "framework/kernels/kernels.h"
#include "framework/ops/ops.h"

namespace ft::layers {

namespace {

// mask[i][j] = 1 where j < i (strict lower) or j > i (strict upper).
Tensor triangle_mask(int64_t n, bool lower, DType dtype) {
  std::vector<double> m(size_t(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      if (lower ? j < i : j > i) m[size_t(i * n + j)] = 1.0;
  return Tensor::from_vector(m, {n, n}).to(dtype);
}

}  // namespace

InvertibleConv1x1::InvertibleConv1x1(int64_t channels, Permutation form, Generator& gen)
    : form_(form), channels_(channels) {
  Tensor q = kernels::qr_orthogonal(normal({channels, channels}, 0.0, 1.0, gen, DType::f64));
  if (form == Permutation::plain) {
    weight = q.to(DType::f32);
    register_parameter("weight", &weight);
    return;
  }
  lower_mask_ = triangle_mask(channels, true, DType::f32);
  upper_mask_ = triangle_mask(channels, false, DType::f32);
  identity_ = add(add(Tensor::ones({channels, channels}), neg(lower_mask_)), neg(upper_mask_));
  kernels::LUFactors lu = kernels::lu_decompose(q);
  std::vector<double> u = lu.u.to_double_vector();
  std::vector<double> signs(static_cast<size_t>(channels)), logs(static_cast<size_t>(channels));
  for (int64_t i = 0; i < channels; ++i) {
    double s = u[size_t(i * channels + i)];
    signs[size_t(i)] = s < 0 ? -1.0 : 1.0;
    logs[size_t(i)] = std::log(std::abs(s));
  }
  lower = mul(lu.l, triangle_mask(channels, true, DType::f64)).to(DType::f32);
  upper = mul(lu.u, triangle_mask(channels, false, DType::f64)).to(DType::f32);
  log_s = Tensor::from_vector(logs, {channels}).to(DType::f32);
  permutation = lu.p.to(DType::f32);
  sign_s = Tensor::from_vector(signs, {channels}).to(DType::f32);
  register_parameter("lower", &lower);
  register_parameter("upper", &upper);
  register_parameter("log_s", &log_s);
  register_buffer("permutation", &permutation);
  register_buffer("sign_s", &sign_s);
  register_constant("lower_mask", &lower_mask_);
  register_constant("upper_mask", &upper_mask_);
  register_constant("identity", &identity_);
}

Tensor InvertibleConv1x1::weight_matrix() const {
  if (form_ == Permutation::plain) return weight;
  DType d = lower.dtype();
  Tensor eye = identity_.to(d);
  Tensor l = add(mul(lower, lower_mask_.to(d)), eye);
  Tensor diagonal = mul(eye, mul(sign_s, exp(log_s)).reshape({1, channels_}));
  Tensor u = add(mul(upper, upper_mask_.to(d)), diagonal);
  return matmul(matmul(permutation, l), u);
}

Tensor InvertibleConv1x1::log_abs_det() const {
  return form_ == Permutation::plain ? logabsdet(weight) : sum(log_s);
}

FlowResult InvertibleConv1x1::forward(const Tensor& x) {
  FT_CHECK(x.dim() == 4 && x.size(1) == channels_, "1x1 convolution of {} channels got input {}", channels_,
           shape_str(x.shape()));
  Tensor w = weight_matrix().to(x.dtype());
  Tensor y = conv2d(x, w.reshape({channels_, channels_, 1, 1}), Tensor(), 0);
  double pixels = double(x.size(2) * x.size(3));
  Tensor logdet = mul(log_abs_det().to(x.dtype()), pixels).reshape({1}).expand({x.size(0)});
  return {y, logdet};
}

FlowResult InvertibleConv1x1::inverse_with_logdet(const Tensor& y) {
  double pixels = double(y.size(2) * y.size(3));
  Tensor logdet = mul(log_abs_det().to(y.dtype()), -pixels).reshape({1}).expand({y.size(0)});
  return {inverse(y), logdet};
}

Tensor InvertibleConv1x1::inverse(const Tensor& y) {
  Tensor w_inv = ft::inverse(weight_matrix().to(DType::f64)).to(y.dtype());
  return conv2d(y, w_inv.reshape({channels_, channels_, 1, 1}), Tensor(), 0);
}

}  // namespace ft::layers
