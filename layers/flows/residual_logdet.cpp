#include "layers/flows/residual_logdet.h"

#include <algorithm>
#include <cmath>

#include "framework/autograd/grad.h"
#include "framework/autograd/grad_mode.h"
#include "framework/core/check.h"
#include "framework/ops/ops.h"
#include "layers/flows/transform.h"

namespace ft::layers::flows {

namespace {

// v^T J for the rows v of every example: d<g, v>/dx (zeros when g does not depend on x).
Tensor vector_jacobian(const Tensor& g, const Tensor& x, const Tensor& v, bool create_graph) {
  Tensor out = grad({g}, {x}, {v}, create_graph, /*retain_graph=*/true)[0];
  return out.defined() ? out : Tensor::zeros_like(x);
}

// Column k (0-based) of [N, K] weights as [N, 1, ...] to scale tensors shaped like x.
Tensor weight_column(const Tensor& weights, int64_t k, const Tensor& like) {
  Shape shape(size_t(like.dim()), 1);
  shape[0] = like.size(0);
  return weights.slice(1, k, k + 1).reshape(shape);
}

void check_estimator_inputs(const Tensor& g, const Tensor& x, const Tensor& probes, const Tensor& weights) {
  FT_CHECK(g.shape() == x.shape() && probes.shape() == x.shape(),
           "residual log-determinant: g {}, x {} and probes {} must have one shape", shape_str(g.shape()),
           shape_str(x.shape()), shape_str(probes.shape()));
  FT_CHECK(weights.dim() == 2 && weights.size(0) == x.size(0) && weights.size(1) >= 1,
           "residual log-determinant: weights {} must be [N = {}, terms >= 1]", shape_str(weights.shape()), x.size(0));
}

}  // namespace

Tensor exact_residual_logdet(const Tensor& g, const Tensor& x, bool create_graph) {
  FT_CHECK(g.shape() == x.shape(), "residual log-determinant: g {} and x {} must have one shape", shape_str(g.shape()),
           shape_str(x.shape()));
  int64_t n = x.size(0), d = x.numel() / std::max<int64_t>(n, 1);
  std::vector<Tensor> rows;
  for (int64_t i = 0; i < d; ++i) {
    Tensor seed = Tensor::zeros({n, d}, g.dtype(), g.device());
    seed.slice(1, i, i + 1).fill_(1.0);
    rows.push_back(vector_jacobian(g, x, seed.reshape(g.shape()), create_graph).reshape({n, 1, d}));
  }
  Tensor jacobian = concat(rows, 1);  // [N, D, D], row i: d g_i / dx
  if (d == 2) {  // the 2-D toys: (1 + a)(1 + d) - b c, batched, without a loop over examples
    auto entry = [&](int64_t i, int64_t j) { return jacobian.select(1, i).select(1, j); };
    Tensor det = sub(mul(add(entry(0, 0), 1.0), add(entry(1, 1), 1.0)), mul(entry(0, 1), entry(1, 0)));
    return log(abs(det));
  }
  Tensor identity = Tensor::zeros({d, d}, g.dtype(), g.device());
  for (int64_t i = 0; i < d; ++i) identity.slice(0, i, i + 1).slice(1, i, i + 1).fill_(1.0);
  Tensor a = add(jacobian, identity);
  std::vector<Tensor> values;
  for (int64_t e = 0; e < n; ++e) values.push_back(logabsdet(a.select(0, e)).reshape({1}));
  return concat(values, 0);
}

Tensor power_series_logdet(const Tensor& g, const Tensor& x, const Tensor& probes, const Tensor& weights,
                           bool create_graph) {
  check_estimator_inputs(g, x, probes, weights);
  Tensor w = probes, total;
  for (int64_t k = 1; k <= weights.size(1); ++k) {
    w = vector_jacobian(g, x, w, create_graph);
    double sign = k % 2 == 1 ? 1.0 : -1.0;
    Tensor term = mul(sum_except_batch(mul(mul(w, probes), weight_column(weights, k - 1, x))), sign / double(k));
    total = total.defined() ? add(total, term) : term;
  }
  return total;
}

Tensor neumann_logdet(const Tensor& g, const Tensor& x, const Tensor& probes, const Tensor& weights) {
  check_estimator_inputs(g, x, probes, weights);
  Tensor value, neumann;
  {
    NoGradGuard no_grad;
    Tensor w = probes;
    neumann = probes;
    value = Tensor::zeros({x.size(0)}, x.dtype(), x.device());
    for (int64_t k = 1; k <= weights.size(1); ++k) {
      w = vector_jacobian(g, x, w, false);
      Tensor weighted = mul(w, weight_column(weights, k - 1, x));
      double sign = k % 2 == 1 ? 1.0 : -1.0;
      value = add(value, mul(sum_except_batch(mul(weighted, probes)), sign / double(k)));
      neumann = add(neumann, mul(weighted, -sign));
    }
  }
  // d/dtheta of neumann^T J v with neumann held fixed is the Neumann-series gradient.
  Tensor surrogate = sum_except_batch(mul(vector_jacobian(g, x, neumann, true), probes));
  return add(value, sub(surrogate, surrogate.detach()));
}

void RouletteOptions::validate(const char* who) const {
  FT_CHECK(exact_terms >= 0, "{}: exact_terms must be >= 0, got {}", who, exact_terms);
  if (distribution == SeriesLength::geometric)
    FT_CHECK(geometric_p > 0.0 && geometric_p < 1.0, "{}: geometric_p must be in (0, 1), got {}", who, geometric_p);
  else
    FT_CHECK(poisson_lambda > 0.0, "{}: poisson_lambda must be > 0, got {}", who, poisson_lambda);
}

double roulette_survival(const RouletteOptions& o, int64_t k) {
  int64_t j = k - o.exact_terms;
  if (j <= 0) return 1.0;
  if (o.distribution == SeriesLength::geometric) return std::pow(1.0 - o.geometric_p, double(j - 1));
  // P(N >= j) = 1 - sum_{i < j} e^-lambda lambda^i / i!
  double term = std::exp(-o.poisson_lambda), below = 0.0;
  for (int64_t i = 0; i < j; ++i) {
    below += term;
    term *= o.poisson_lambda / double(i + 1);
  }
  return std::max(1.0 - below, 0.0);
}

int64_t roulette_length(const RouletteOptions& o, double u) {
  FT_CHECK(u > 0.0 && u < 1.0, "roulette_length: the uniform must be in (0, 1), got {}", u);
  if (o.distribution == SeriesLength::geometric)
    return 1 + int64_t(std::floor(std::log1p(-u) / std::log1p(-o.geometric_p)));
  double term = std::exp(-o.poisson_lambda), cdf = term;
  int64_t n = 0;
  while (u > cdf && term > 0.0) {
    ++n;
    term *= o.poisson_lambda / double(n);
    cdf += term;
  }
  return n;
}

Tensor roulette_weights(const RouletteOptions& o, const std::vector<int64_t>& lengths, DType dtype, Device device) {
  FT_CHECK(!lengths.empty(), "roulette_weights: no examples");
  int64_t terms = o.exact_terms + *std::max_element(lengths.begin(), lengths.end());
  terms = std::max<int64_t>(terms, 1);
  std::vector<double> w(lengths.size() * size_t(terms), 0.0);
  for (size_t e = 0; e < lengths.size(); ++e)
    for (int64_t k = 1; k <= terms; ++k)
      if (k <= o.exact_terms + lengths[e]) w[e * size_t(terms) + size_t(k - 1)] = 1.0 / roulette_survival(o, k);
  return Tensor::from_vector(w, {int64_t(lengths.size()), terms}, Device::cpu()).to(dtype).to(device);
}

}  // namespace ft::layers::flows
