#include "framework/ode/state_arithmetic.h"

#include <algorithm>
#include <cmath>

#include "framework/autograd/grad_mode.h"
#include "framework/ops/ops.h"

namespace ft::ode::detail {

State weighted_slopes(double h, const std::vector<double>& weights, const std::vector<const State*>& slopes) {
  State out(slopes.front()->size());
  for (size_t i = 0; i < out.size(); ++i)
    for (size_t j = 0; j < weights.size(); ++j) {
      if (weights[j] == 0.0) continue;
      Tensor term = mul((*slopes[j])[i], h * weights[j]);
      out[i] = out[i].defined() ? add(out[i], term) : term;
    }
  return out;
}

State add_weighted_slopes(const State& y, double h, const std::vector<double>& weights,
                          const std::vector<const State*>& slopes) {
  State out = weighted_slopes(h, weights, slopes);
  for (size_t i = 0; i < y.size(); ++i) out[i] = add(y[i], out[i]);
  return out;
}

double mixed_rms_norm(const State& x) {
  NoGradGuard no_grad;
  double norm = 0.0;
  for (const Tensor& t : x) {
    if (t.numel() == 0) continue;
    double rms = std::sqrt(mean(square(t.detach().to(DType::f64))).item());
    if (!std::isfinite(rms)) return rms;
    norm = std::max(norm, rms);
  }
  return norm;
}

double error_ratio(const State& error, const State& y_old, const State& y_new, double atol, double rtol) {
  NoGradGuard no_grad;
  State scaled;
  for (size_t i = 0; i < error.size(); ++i) {
    Tensor a = abs(y_old[i].detach()).to(DType::f64), b = abs(y_new[i].detach()).to(DType::f64);
    Tensor larger = mul(add(add(a, b), abs(sub(a, b))), 0.5);  // max(a, b) without a max op
    scaled.push_back(div(error[i].detach().to(DType::f64), add(mul(larger, rtol), atol)));
  }
  return mixed_rms_norm(scaled);
}

bool all_finite(const State& x) {
  NoGradGuard no_grad;
  // A sum is finite only when every term is (barring overflow of ~1e308 in f64).
  for (const Tensor& t : x)
    if (t.numel() > 0 && !std::isfinite(sum(t.detach().to(DType::f64)).item())) return false;
  return true;
}

}  // namespace ft::ode::detail
