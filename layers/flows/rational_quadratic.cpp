#include "layers/flows/rational_quadratic.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "framework/ops/ops.h"

namespace ft::layers::flows {

namespace {

constexpr double kMinBinWidth = 1e-3, kMinBinHeight = 1e-3, kMinDerivative = 1e-3;

Tensor like(const std::vector<double>& values, const Shape& shape, const Tensor& x) {
  return Tensor::from_vector(values, shape).to(x.dtype()).to(x.device());
}

// 1 where |x| <= bound.
Tensor inside_mask(const Tensor& x, double bound) {
  std::vector<double> v = x.to(Device::cpu()).to_double_vector();
  for (double& e : v) e = std::abs(e) <= bound ? 1.0 : 0.0;
  return like(v, x.shape(), x);
}

// Knots [..., K+1] from unnormalised sizes [..., K]: -B, ..., B exactly at the ends.
Tensor knots(const Tensor& unnormalised, double minimum, double bound) {
  int64_t k = unnormalised.size(unnormalised.dim() - 1);
  Tensor sizes = add(mul(softmax(unnormalised, -1), 1.0 - minimum * double(k)), minimum);
  std::vector<double> upper(size_t(k * (k + 1)), 0.0);  // cumulative sums with a leading 0
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = i + 1; j <= k; ++j) upper[size_t(i * (k + 1) + j)] = 1.0;
  Shape flat{sizes.numel() / k, k};
  Shape out_shape = sizes.shape();
  out_shape.back() = k + 1;
  Tensor cumulative = matmul(sizes.reshape(flat), like(upper, {k, k + 1}, sizes)).reshape(out_shape);
  Tensor scaled = add(mul(cumulative, 2.0 * bound), -bound);
  Shape end_shape = out_shape;
  end_shape.back() = 1;
  int64_t last = scaled.dim() - 1;
  return concat({scaled.slice(last, 0, k), Tensor::full(end_shape, bound, scaled.dtype(), scaled.device())}, last);
}

// One-hot [..., K] of the bin holding each value (nflows' searchsorted: the last
// knot nudged up by 1e-6 so the right end falls in the last bin).
Tensor bin_one_hot(const Tensor& values, const Tensor& knot_positions) {
  int64_t k = knot_positions.size(knot_positions.dim() - 1) - 1;
  std::vector<double> v = values.to(Device::cpu()).to_double_vector();
  std::vector<double> p = knot_positions.to(Device::cpu()).to_double_vector();
  std::vector<double> hot(v.size() * size_t(k), 0.0);
  for (size_t e = 0; e < v.size(); ++e) {
    int64_t bin = -1;
    for (int64_t j = 0; j <= k; ++j) {
      double knot = p[e * size_t(k + 1) + size_t(j)] + (j == k ? 1e-6 : 0.0);
      if (v[e] >= knot) ++bin;
    }
    hot[e * size_t(k) + size_t(std::clamp<int64_t>(bin, 0, k - 1))] = 1.0;
  }
  Shape shape = values.shape();
  shape.push_back(k);
  return like(hot, shape, values);
}

}  // namespace

ElementwiseResult rational_quadratic_spline(const Tensor& x, const Tensor& params, int64_t bins, double tail_bound,
                                            bool inverse) {
  int64_t last = params.dim() - 1;
  FT_CHECK(params.size(last) == 3 * bins - 1, "a spline of {} bins needs {} parameters per element, got {}", bins,
           3 * bins - 1, params.size(last));
  Tensor inside = inside_mask(x, tail_bound);
  Tensor xc = mul(x, inside);
  Tensor cumwidths = knots(params.slice(last, 0, bins), kMinBinWidth, tail_bound);
  Tensor cumheights = knots(params.slice(last, bins, 2 * bins), kMinBinHeight, tail_bound);
  Shape end_shape = x.shape();
  end_shape.push_back(1);
  // Boundary derivatives of 1: softplus(log(e^(1 - min) - 1)) + min.
  Tensor boundary = Tensor::full(end_shape, std::log(std::exp(1.0 - kMinDerivative) - 1.0), x.dtype(), x.device());
  Tensor derivatives =
      add(softplus(concat({boundary, params.slice(last, 2 * bins, 3 * bins - 1), boundary}, last)), kMinDerivative);
  Tensor widths = sub(cumwidths.slice(last, 1, bins + 1), cumwidths.slice(last, 0, bins));
  Tensor heights = sub(cumheights.slice(last, 1, bins + 1), cumheights.slice(last, 0, bins));
  Tensor hot = bin_one_hot(xc, inverse ? cumheights : cumwidths);
  auto pick = [&](const Tensor& v) { return sum(mul(hot, v), {last}); };
  Tensor x0 = pick(cumwidths.slice(last, 0, bins)), w = pick(widths);
  Tensor y0 = pick(cumheights.slice(last, 0, bins)), h = pick(heights);
  Tensor delta = div(h, w);
  Tensor d0 = pick(derivatives.slice(last, 0, bins)), d1 = pick(derivatives.slice(last, 1, bins + 1));
  Tensor curvature = sub(add(d0, d1), mul(delta, 2.0));  // d0 + d1 - 2 delta
  Tensor theta, out;
  if (inverse) {
    Tensor rise = sub(xc, y0);
    Tensor a = add(mul(rise, curvature), mul(h, sub(delta, d0)));
    Tensor b = sub(mul(h, d0), mul(rise, curvature));
    Tensor c = mul(neg(delta), rise);
    Tensor discriminant = sub(square(b), mul(mul(a, c), 4.0));
    // The root 2c / (-b - sqrt(disc)) avoids the cancellation of (-b + sqrt(disc)) / 2a.
    theta = div(mul(c, 2.0), sub(neg(b), sqrt(discriminant)));
    out = add(mul(theta, w), x0);
  } else {
    theta = div(sub(xc, x0), w);
  }
  Tensor one_minus = sub(Tensor::scalar(1.0, x.dtype(), x.device()), theta);
  Tensor theta_one_minus = mul(theta, one_minus);
  Tensor denominator = add(delta, mul(curvature, theta_one_minus));
  if (!inverse) out = add(y0, div(mul(h, add(mul(delta, square(theta)), mul(d0, theta_one_minus))), denominator));
  Tensor numerator = mul(square(delta), add(add(mul(d1, square(theta)), mul(mul(delta, theta_one_minus), 2.0)),
                                            mul(d0, square(one_minus))));
  Tensor logabsdet = sub(log(numerator), mul(log(denominator), 2.0));
  if (inverse) logabsdet = neg(logabsdet);
  Tensor outside = sub(Tensor::scalar(1.0, x.dtype(), x.device()), inside);
  return {add(mul(out, inside), mul(x, outside)), mul(logabsdet, inside)};
}

}  // namespace ft::layers::flows
