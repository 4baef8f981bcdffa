// Small dense linear algebra in f64: what LU-parametrised 1x1 convolutions and
// the plain (slogdet) form need. Matrices are at most a few hundred wide.
#include <cmath>
#include <vector>

#include "framework/kernels/dispatch.h"
#include "framework/kernels/kernels.h"

namespace ft::kernels::cpu {

namespace {

struct SquareMatrix {
  int64_t n;
  std::vector<double> a;  // row-major
};

SquareMatrix to_square(const Tensor& t, const char* what) {
  FT_CHECK(t.dim() == 2 && t.size(0) == t.size(1), "{} needs a square matrix, got {}", what, shape_str(t.shape()));
  return {t.size(0), t.to_double_vector()};
}

// In-place LU with partial pivoting; returns the permutation and its sign.
// Throws when the matrix is singular (a zero pivot).
std::vector<int64_t> lu_factor(SquareMatrix& m, int* sign, bool allow_singular) {
  int64_t n = m.n;
  std::vector<int64_t> perm(static_cast<size_t>(n));
  *sign = 1;
  for (int64_t i = 0; i < n; ++i) perm[size_t(i)] = i;
  for (int64_t c = 0; c < n; ++c) {
    int64_t p = c;
    for (int64_t r = c + 1; r < n; ++r)
      if (std::abs(m.a[size_t(r * n + c)]) > std::abs(m.a[size_t(p * n + c)])) p = r;
    if (m.a[size_t(p * n + c)] == 0.0) {
      FT_CHECK(allow_singular, "matrix is singular (zero pivot in column {})", c);
      continue;
    }
    if (p != c) {
      for (int64_t j = 0; j < n; ++j) std::swap(m.a[size_t(c * n + j)], m.a[size_t(p * n + j)]);
      std::swap(perm[size_t(c)], perm[size_t(p)]);
      *sign = -*sign;
    }
    double pivot = m.a[size_t(c * n + c)];
    for (int64_t r = c + 1; r < n; ++r) {
      double f = m.a[size_t(r * n + c)] / pivot;
      m.a[size_t(r * n + c)] = f;
      for (int64_t j = c + 1; j < n; ++j) m.a[size_t(r * n + j)] -= f * m.a[size_t(c * n + j)];
    }
  }
  return perm;
}

}  // namespace

void slogdet(const Tensor& t, double* sign_out, double* logabsdet) {
  SquareMatrix m = to_square(t, "slogdet");
  int sign = 1;
  lu_factor(m, &sign, true);
  double log_sum = 0.0;
  for (int64_t i = 0; i < m.n; ++i) {
    double d = m.a[size_t(i * m.n + i)];
    if (d == 0.0) {
      *sign_out = 0.0;
      *logabsdet = -INFINITY;
      return;
    }
    if (d < 0) sign = -sign;
    log_sum += std::log(std::abs(d));
  }
  *sign_out = sign;
  *logabsdet = log_sum;
}

Tensor inverse(const Tensor& t) {
  SquareMatrix m = to_square(t, "inverse");
  int sign = 1;
  std::vector<int64_t> perm = lu_factor(m, &sign, false);
  int64_t n = m.n;
  std::vector<double> inv(size_t(n * n));
  // Solve L U x = P e_j for every column j.
  for (int64_t j = 0; j < n; ++j) {
    std::vector<double> x(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) x[size_t(i)] = perm[size_t(i)] == j ? 1.0 : 0.0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < i; ++k) x[size_t(i)] -= m.a[size_t(i * n + k)] * x[size_t(k)];
    for (int64_t i = n; i-- > 0;) {
      for (int64_t k = i + 1; k < n; ++k) x[size_t(i)] -= m.a[size_t(i * n + k)] * x[size_t(k)];
      x[size_t(i)] /= m.a[size_t(i * n + i)];
    }
    for (int64_t i = 0; i < n; ++i) inv[size_t(i * n + j)] = x[size_t(i)];
  }
  return cast(Tensor::from_vector(inv, {n, n}), t.dtype()).to(t.device());
}

Tensor triangular_solve(const Tensor& a_in, const Tensor& b_in, bool lower, bool unit_diagonal) {
  SquareMatrix a = to_square(a_in, "triangular_solve");
  int64_t n = a.n;
  FT_CHECK(b_in.dim() == 2 && b_in.size(0) == n, "triangular_solve right side {} for a {}x{} matrix",
           shape_str(b_in.shape()), n, n);
  int64_t cols = b_in.size(1);
  std::vector<double> x = b_in.to_double_vector();
  for (int64_t c = 0; c < cols; ++c) {
    if (lower) {
      for (int64_t i = 0; i < n; ++i) {
        double s = x[size_t(i * cols + c)];
        for (int64_t k = 0; k < i; ++k) s -= a.a[size_t(i * n + k)] * x[size_t(k * cols + c)];
        x[size_t(i * cols + c)] = unit_diagonal ? s : s / a.a[size_t(i * n + i)];
      }
    } else {
      for (int64_t i = n; i-- > 0;) {
        double s = x[size_t(i * cols + c)];
        for (int64_t k = i + 1; k < n; ++k) s -= a.a[size_t(i * n + k)] * x[size_t(k * cols + c)];
        x[size_t(i * cols + c)] = unit_diagonal ? s : s / a.a[size_t(i * n + i)];
      }
    }
  }
  return cast(Tensor::from_vector(x, {n, cols}), b_in.dtype()).to(b_in.device());
}

Tensor qr_orthogonal(const Tensor& a_in) {
  SquareMatrix m = to_square(a_in, "qr_orthogonal");
  int64_t n = m.n;
  std::vector<double> q(size_t(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) q[size_t(i * n + i)] = 1.0;
  // Householder reflections H_k = I - 2 v v^T / (v^T v) zero column k below the
  // diagonal; Q = H_0 H_1 ... H_{n-2}, accumulated from the right.
  for (int64_t k = 0; k + 1 < n; ++k) {
    double norm = 0.0;
    for (int64_t i = k; i < n; ++i) norm += m.a[size_t(i * n + k)] * m.a[size_t(i * n + k)];
    norm = std::sqrt(norm);
    if (norm == 0.0) continue;
    std::vector<double> v(size_t(n), 0.0);
    double alpha = m.a[size_t(k * n + k)] > 0 ? -norm : norm;
    for (int64_t i = k; i < n; ++i) v[size_t(i)] = m.a[size_t(i * n + k)];
    v[size_t(k)] -= alpha;
    double vv = 0.0;
    for (int64_t i = k; i < n; ++i) vv += v[size_t(i)] * v[size_t(i)];
    if (vv == 0.0) continue;
    for (int64_t j = 0; j < n; ++j) {  // A <- H A
      double dot = 0.0;
      for (int64_t i = k; i < n; ++i) dot += v[size_t(i)] * m.a[size_t(i * n + j)];
      for (int64_t i = k; i < n; ++i) m.a[size_t(i * n + j)] -= 2.0 * v[size_t(i)] * dot / vv;
    }
    for (int64_t i = 0; i < n; ++i) {  // Q <- Q H
      double dot = 0.0;
      for (int64_t j = k; j < n; ++j) dot += q[size_t(i * n + j)] * v[size_t(j)];
      for (int64_t j = k; j < n; ++j) q[size_t(i * n + j)] -= 2.0 * dot * v[size_t(j)] / vv;
    }
  }
  return cast(Tensor::from_vector(q, {n, n}), a_in.dtype()).to(a_in.device());
}

LUFactors lu_decompose(const Tensor& a_in) {
  SquareMatrix m = to_square(a_in, "lu_decompose");
  int64_t n = m.n;
  int sign = 1;
  std::vector<int64_t> perm = lu_factor(m, &sign, false);  // rows: (P^T A)[i] = A[perm[i]]
  std::vector<double> p(size_t(n * n), 0.0), l(size_t(n * n), 0.0), u(size_t(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    p[size_t(perm[size_t(i)] * n + i)] = 1.0;  // A = P (L U): row perm[i] of A is row i of LU
    for (int64_t j = 0; j < n; ++j) {
      if (j < i) l[size_t(i * n + j)] = m.a[size_t(i * n + j)];
      else u[size_t(i * n + j)] = m.a[size_t(i * n + j)];
    }
    l[size_t(i * n + i)] = 1.0;
  }
  DType d = a_in.dtype();
  const Device device = a_in.device();
  return {cast(Tensor::from_vector(p, {n, n}), d).to(device), cast(Tensor::from_vector(l, {n, n}), d).to(device),
          cast(Tensor::from_vector(u, {n, n}), d).to(device)};
}

void register_linalg(KernelTable& table) {
  table.slogdet.add(DeviceKind::cpu, slogdet, kFloating);
  table.inverse.add(DeviceKind::cpu, inverse, kFloating);
  table.triangular_solve.add(DeviceKind::cpu, triangular_solve, kFloating);
  table.qr_orthogonal.add(DeviceKind::cpu, qr_orthogonal, kFloating);
  table.lu_decompose.add(DeviceKind::cpu, lu_decompose, kFloating);
}

}  // namespace ft::kernels::cpu
