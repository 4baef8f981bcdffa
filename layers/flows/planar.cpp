#include "layers/flows/planar.h"

#include <cmath>

#include "framework/ops/ops.h"

namespace ft::layers::flows {

PlanarFlow::PlanarFlow(int64_t features, Generator& gen) {
  double limit_w = std::sqrt(2.0 / double(features)), limit_u = std::sqrt(2.0);
  u = uniform({features}, -limit_u, limit_u, gen);
  w = uniform({features}, -limit_w, limit_w, gen);
  b = Tensor::zeros({1});
  register_parameter("u", &u);
  register_parameter("w", &w);
  register_parameter("b", &b);
}

Tensor PlanarFlow::u_hat() const {
  Tensor wu = sum(mul(w, u));
  return add(u, mul(div(sub(add(softplus(wu), -1.0), wu), sum(square(w))), w));
}

Tensor PlanarFlow::logabsdet_at(const Tensor& a, const Tensor& wu) const {
  Tensor derivative = sub(Tensor::scalar(1.0, a.dtype(), a.device()), square(tanh(a)));
  return log(abs(add(mul(derivative, wu), 1.0)));
}

TransformResult PlanarFlow::forward(const Tensor& x, const Tensor& context) {
  check_features(x, w.size(0), "planar flow");
  (void)context;
  Tensor uh = u_hat().to(x.dtype()), wx = w.to(x.dtype());
  Tensor a = add(sum(mul(x, wx), {1}), b.to(x.dtype()));  // [N]
  Tensor z = add(x, mul(tanh(a).unsqueeze(1), uh));
  return {z, logabsdet_at(a, sum(mul(wx, uh)))};
}

double solve_planar_root(double c, double t) {
  double low = t - std::abs(c), high = t + std::abs(c), a = t;
  for (int i = 0; i < 200; ++i) {
    double th = std::tanh(a), g = a + c * th - t;
    if (g == 0.0) return a;
    (g > 0 ? high : low) = a;
    double next = a - g / (1.0 + c * (1.0 - th * th));
    if (!(next > low && next < high)) next = 0.5 * (low + high);
    if (next == a || high - low <= 4e-16 * std::max(1.0, std::abs(a))) return next;
    a = next;
  }
  return a;
}

TransformResult PlanarFlow::inverse(const Tensor& y, const Tensor& context) {
  check_features(y, w.size(0), "planar flow");
  (void)context;
  Tensor uh = u_hat().to(y.dtype()), wx = w.to(y.dtype());
  Tensor wu = sum(mul(wx, uh));
  Tensor t = add(sum(mul(y, wx), {1}), b.to(y.dtype()));
  std::vector<double> targets = t.to(Device::cpu()).to_double_vector(), roots;
  double c = wu.item();
  for (double target : targets) roots.push_back(solve_planar_root(c, target));
  // One Newton step from the detached root adds nothing to its value but gives it
  // the implicit-function gradient: da = (dt - tanh(a) dc) / (1 + c tanh'(a)).
  Tensor root = Tensor::from_vector(roots, {y.size(0)}).to(y.dtype()).to(y.device());
  Tensor residual = sub(add(root, mul(tanh(root), wu)), t);
  Tensor slope = add(mul(sub(Tensor::scalar(1.0, y.dtype(), y.device()), square(tanh(root))), wu.detach()), 1.0);
  Tensor a = sub(root, div(residual, slope.detach()));
  Tensor x = sub(y, mul(tanh(a).unsqueeze(1), uh));
  return {x, neg(logabsdet_at(a, wu))};
}

}  // namespace ft::layers::flows
