// Log-determinants of an invertible residual map x -> x + g(x) (Lip(g) < 1), per
// example, from vector-Jacobian products of g = net(x) with respect to x (x must be
// in g's graph and require grad). With J = dg/dx,
//   log det(I + J) = sum_{k >= 1} (-1)^(k+1) tr(J^k) / k,
// and tr(J^k) = E[v^T J^k v] for probes with E[v v^T] = I (Hutchinson): Gaussian or
// Rademacher. v^T J^k is k vector-Jacobian products, so no Jacobian is ever formed.
#pragma once
#include <cstdint>
#include <vector>

#include "framework/core/tensor.h"

namespace ft::layers::flows {

// Brute force: the full Jacobian (one vector-Jacobian product per dimension of an
// example) and its log|det|. For small examples (2-D toys) and for tests.
Tensor exact_residual_logdet(const Tensor& g, const Tensor& x, bool create_graph);

// The power series with Hutchinson's estimator: sum_k (-1)^(k+1)/k weights[:, k-1] v^T J^k v
// for k = 1..K, weights [N, K] (ones: the series truncated at K terms; roulette_weights:
// unbiased). With create_graph the estimate is differentiable (its graph holds K
// vector-Jacobian products).
Tensor power_series_logdet(const Tensor& g, const Tensor& x, const Tensor& probes, const Tensor& weights,
                           bool create_graph);

// The same estimate, with the gradient that needs the graph of one vector-Jacobian
// product instead of K (Chen et al. 2019, the Neumann-series gradient):
//   d log det(I + J) = tr((I + J)^-1 dJ) ~ (sum_{k=0}^{K} (-1)^k weights_k v^T J^k) dJ v,
// the J^k products taken without a graph (weights_0 = 1). The value is the power
// series of the same products; its gradient is that of the Neumann surrogate.
Tensor neumann_logdet(const Tensor& g, const Tensor& x, const Tensor& probes, const Tensor& weights);

// ---- the Russian-roulette estimator (Chen et al. 2019) ----------------------------------
// Each example draws a length N; term k of its series is taken when k <= exact_terms + N
// and weighted by 1 / P(that), so the infinite series' expectation is kept exactly.
enum class SeriesLength { geometric, poisson };  // N >= 1 with P(N >= j) = (1-p)^(j-1); N ~ Poisson(lambda)

struct RouletteOptions {
  SeriesLength distribution = SeriesLength::geometric;
  double geometric_p = 0.5;
  double poisson_lambda = 2.0;
  int64_t exact_terms = 2;  // always taken
  void validate(const char* who) const;
};

// P(term k is taken): 1 for k <= exact_terms, else P(N >= k - exact_terms).
double roulette_survival(const RouletteOptions& options, int64_t k);
// N from a uniform in (0, 1), by the inverse of its distribution function.
int64_t roulette_length(const RouletteOptions& options, double uniform);
// [N, exact_terms + max(lengths)] weights: 1[k <= exact_terms + n_i] / roulette_survival(k).
Tensor roulette_weights(const RouletteOptions& options, const std::vector<int64_t>& lengths, DType dtype,
                        Device device);

}  // namespace ft::layers::flows
