#include "layers/flows/radial.h"

#include "framework/ops/ops.h"

namespace ft::layers::flows {

RadialFlow::RadialFlow(int64_t features, Generator& gen) {
  double limit = 1.0 / double(features);
  x0 = normal({features}, 0.0, 1.0, gen);
  alpha = uniform({1}, -limit, limit, gen);
  beta = uniform({1}, -limit - 1.0, limit - 1.0, gen);
  register_parameter("x0", &x0);
  register_parameter("alpha", &alpha);
  register_parameter("beta", &beta);
}

RadialFlow::Constants RadialFlow::constrained(DType dtype) const {
  Tensor a = abs(alpha.to(dtype));
  return {a, sub(softplus(beta.to(dtype)), a)};
}

Tensor RadialFlow::logabsdet_at(const Tensor& r, const Constants& k) const {
  Tensor denominator = add(r, k.alpha);
  Tensor h = div(k.beta, denominator);
  Tensor h_prime_r = div(mul(neg(k.beta), r), square(denominator));
  double d = double(x0.size(0));
  return add(mul(log(add(h, 1.0)), d - 1.0), log(add(add(h, h_prime_r), 1.0)));
}

TransformResult RadialFlow::forward(const Tensor& x, const Tensor& context) {
  check_features(x, x0.size(0), "radial flow");
  (void)context;
  Constants k = constrained(x.dtype());
  Tensor dx = sub(x, x0.to(x.dtype()));
  Tensor r = sqrt(sum(square(dx), {1}));  // [N]
  Tensor h = div(k.beta, add(r, k.alpha));
  return {add(x, mul(dx, h.unsqueeze(1))), logabsdet_at(r, k)};
}

TransformResult RadialFlow::inverse(const Tensor& y, const Tensor& context) {
  check_features(y, x0.size(0), "radial flow");
  (void)context;
  Constants k = constrained(y.dtype());
  Tensor dy = sub(y, x0.to(y.dtype()));
  Tensor ry = sqrt(sum(square(dy), {1}));
  Tensor linear = sub(add(k.alpha, k.beta), ry);
  Tensor r = mul(add(neg(linear), sqrt(add(square(linear), mul(mul(ry, k.alpha), 4.0)))), 0.5);
  Tensor factor = add(div(k.beta, add(r, k.alpha)), 1.0);
  return {add(x0.to(y.dtype()), div(dy, factor.unsqueeze(1))), neg(logabsdet_at(r, k))};
}

}  // namespace ft::layers::flows
