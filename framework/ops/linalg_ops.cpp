#include "framework/autograd/node.h"
#include "framework/kernels/kernels.h"
#include "framework/ops/ops.h"

namespace ft {

namespace {

// Keeps the strict (or non-strict) lower or upper triangle of a square matrix.
Tensor triangle_of(const Tensor& m, bool lower, bool with_diagonal) {
  int64_t n = m.size(0);
  std::vector<double> v = m.to_double_vector();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      bool keep = lower ? (j < i || (with_diagonal && i == j)) : (j > i || (with_diagonal && i == j));
      if (!keep) v[size_t(i * n + j)] = 0.0;
    }
  return kernels::cast(Tensor::from_vector(v, m.shape(), m.device()), m.dtype());
}

}  // namespace

Tensor logabsdet(const Tensor& a, double* sign) {
  double s = 0.0, value = 0.0;
  kernels::slogdet(a, &s, &value);
  if (sign) *sign = s;
  Tensor y = Tensor::scalar(value, a.dtype(), a.device());
  record(
      "logabsdet", y, {a},
      [as = a.detach()](const Tensor& g) {
        // d log|det A| / dA = A^{-T}
        Tensor inv_t = kernels::copy(kernels::inverse(as).transpose(0, 1));
        return std::vector<Tensor>{kernels::scale_shift(inv_t, g.item(), 0.0)};
      },
      [a](const Tensor& g) { return std::vector<Tensor>{mul(inverse(a).transpose(0, 1), g)}; });
  return y;
}

Tensor inverse(const Tensor& a) {
  Tensor y = kernels::inverse(a);
  record(
      "inverse", y, {a},
      [ys = y.detach()](const Tensor& g) {
        // dA = -Y^T g Y^T
        Tensor left = kernels::matmul(ys, g, true, false);
        return std::vector<Tensor>{kernels::scale_shift(kernels::matmul(left, ys, false, true), -1.0, 0.0)};
      },
      [a](const Tensor& g) {  // Y recomputed: the output itself cannot be captured
        Tensor yt = inverse(a).transpose(0, 1);
        return std::vector<Tensor>{neg(matmul(matmul(yt, g), yt))};
      });
  return y;
}

Tensor triangular_solve(const Tensor& a, const Tensor& b, bool lower, bool unit_diagonal) {
  Tensor x = kernels::triangular_solve(a, b, lower, unit_diagonal);
  bool need_a = a.requires_grad();
  record(
      "triangular_solve", x, {a, b},
      [as = a.detach(), xs = x.detach(), lower, unit_diagonal, need_a](const Tensor& g) {
        // dB = A^{-T} g (A^T is triangular the other way); dA = -dB X^T on A's triangle.
        Tensor at = kernels::copy(as.transpose(0, 1));
        Tensor gb = kernels::triangular_solve(at, g, !lower, unit_diagonal);
        Tensor ga;
        if (need_a)
          ga = triangle_of(kernels::scale_shift(kernels::matmul(gb, xs, false, true), -1.0, 0.0), lower, !unit_diagonal);
        return std::vector<Tensor>{ga, gb};
      },
      [a, b, lower, unit_diagonal, need_a](const Tensor& g) {
        Tensor gb = triangular_solve(a.transpose(0, 1).contiguous(), g, !lower, unit_diagonal);
        Tensor ga;
        if (need_a) {
          Tensor triangle = triangle_of(Tensor::ones(a.shape(), a.dtype(), a.device()), lower, !unit_diagonal);
          ga = mul(neg(matmul(gb, triangular_solve(a, b, lower, unit_diagonal).transpose(0, 1))), triangle);
        }
        return std::vector<Tensor>{ga, gb};
      });
  return x;
}

}  // namespace ft
