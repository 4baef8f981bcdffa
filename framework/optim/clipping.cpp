#include "framework/optim/clipping.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "framework/optim/parallel.h"

namespace ft::optim {

namespace {
constexpr int64_t kNormBlock = int64_t{1} << 14;
}

double squared_norm(const float* values, int64_t n) {
  const int64_t blocks = (n + kNormBlock - 1) / kNormBlock;
  std::vector<double> partial(size_t(blocks), 0.0);
#pragma omp parallel for schedule(static) if (blocks > 1)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t end = std::min(n, (b + 1) * kNormBlock);
    double sum = 0.0;
    for (int64_t i = b * kNormBlock; i < end; ++i) sum += double(values[i]) * double(values[i]);
    partial[size_t(b)] = sum;
  }
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

double clip_coefficient(double total_norm, double max_norm) {
  if (max_norm <= 0.0) return 1.0;
  return std::min(1.0, max_norm / (total_norm + 1e-6));
}

void scale_in_place(float* values, int64_t n, double factor) {
  // Multiplying by exactly 1 changes nothing: skip the pass over memory.
  if (factor == 1.0) return;
  detail::for_each_element(n, [&](int64_t i) { values[i] = float(double(values[i]) * factor); });
}

bool all_finite(const float* values, int64_t n) {
  // A reduction rather than an early exit: the answer must not depend on scheduling,
  // and non-finite gradients are rare enough that the full pass is the common case.
  bool finite = true;
#pragma omp parallel for schedule(static) reduction(&& : finite) if (n >= detail::kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) finite = finite && std::isfinite(values[i]);
  return finite;
}

}  // namespace ft::optim
