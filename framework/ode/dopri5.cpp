// Dormand-Prince 5(4) with torchdiffeq's controller and first-step rule
// (torchdiffeq/_impl/rk_common.py, misc.py), written on states of tensors.
#include <algorithm>
#include <array>
#include <cmath>

#include "framework/autograd/grad_mode.h"
#include "framework/core/check.h"
#include "framework/ode/integrators.h"
#include "framework/ode/state_arithmetic.h"
#include "framework/ops/ops.h"

namespace ft::ode::detail {

namespace {

// The Butcher tableau: stage i (1..6) evaluates at t + c[i] h with the weights a[i]
// of the earlier slopes; stage 6's weights are the 5th-order solution (FSAL: its
// slope is the next step's first).
constexpr std::array<double, 7> c = {0.0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1.0, 1.0};
const std::array<std::vector<double>, 7> a = {{
    {},
    {1.0 / 5},
    {3.0 / 40, 9.0 / 40},
    {44.0 / 45, -56.0 / 15, 32.0 / 9},
    {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
    {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
    {35.0 / 384, 0.0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84},
}};
// 5th-order minus 4th-order weights: the local error estimate.
const std::vector<double> error_weights = {35.0 / 384 - 1951.0 / 21600, 0.0, 500.0 / 1113 - 22642.0 / 50085,
                                           125.0 / 192 - 451.0 / 720,   -2187.0 / 6784 + 12231.0 / 42400,
                                           11.0 / 84 - 649.0 / 6300,    -1.0 / 60};

constexpr double kSafety = 0.9, kMaxGrowth = 10.0, kMaxShrink = 0.2, kOrder = 5.0;

// Hairer, Norsett & Wanner, Solving ODEs I, II.4 (torchdiffeq's _select_initial_step):
// a step magnitude from the sizes of y0, f0 and a difference quotient of f. One
// evaluation of f.
double initial_step(CountedField& f, const State& y0, const State& f0, double t0, double direction,
                    const SolverOptions& options) {
  NoGradGuard no_grad;
  State scaled_y, scaled_f, scale;
  for (size_t i = 0; i < y0.size(); ++i) {
    scale.push_back(add(mul(abs(y0[i].detach()), options.rtol), options.atol));
    scaled_y.push_back(div(y0[i].detach(), scale[i]));
    scaled_f.push_back(div(f0[i].detach(), scale[i]));
  }
  const double d0 = mixed_rms_norm(scaled_y), d1 = mixed_rms_norm(scaled_f);
  const double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
  State f1 = f(t0 + direction * h0, add_weighted_slopes(y0, direction * h0, {1.0}, {&f0}), direction * h0);
  State scaled_df;
  for (size_t i = 0; i < y0.size(); ++i) scaled_df.push_back(div(sub(f1[i].detach(), f0[i].detach()), scale[i]));
  const double d2 = mixed_rms_norm(scaled_df) / h0;
  const double h1 = (d1 <= 1e-15 && d2 <= 1e-15) ? std::max(1e-6, h0 * 1e-3)
                                                 : std::pow(0.01 / std::max(d1, d2), 1.0 / kOrder);
  const double h = std::min(100 * h0, h1);
  FT_CHECK(std::isfinite(h), "ode solver (dopri5): the vector field is not finite at t0 = {} (initial step size {})",
           t0, h);
  return h;
}

// The factor of the next step size after one with this error ratio.
double step_factor(double ratio) {
  if (ratio == 0.0) return kMaxGrowth;
  if (!std::isfinite(ratio)) return kMaxShrink;
  const double shrink_bound = ratio < 1.0 ? 1.0 : kMaxShrink;  // an accepted step never shrinks the next
  return std::min(kMaxGrowth, std::max(kSafety / std::pow(ratio, 1.0 / kOrder), shrink_bound));
}

}  // namespace

SolveStats integrate_dopri5(CountedField& f, State& y, double t0, double t1, const SolverOptions& options) {
  const double direction = t1 > t0 ? 1.0 : -1.0;
  SolveStats stats;
  State k0 = f(t0, y, 0.0);
  double h = direction * initial_step(f, y, k0, t0, direction, options);
  double t = t0;
  while (t != t1) {
    const bool last = std::abs(h) >= std::abs(t1 - t);
    const double step = last ? t1 - t : h;
    const double t_next = last ? t1 : t + step;
    if (t_next == t)
      FT_FAIL("ode solver: step size underflow at t={} (step size {}), integrating from {} to {} with dopri5 at "
              "atol {} rtol {}: the state or the vector field is not finite, or the field too stiff",
              t, step, t0, t1, options.atol, options.rtol);
    std::array<State, 7> k;
    k[0] = k0;
    std::vector<const State*> slopes = {&k[0]};
    State y_next;
    for (size_t stage = 1; stage < 7; ++stage) {
      State y_stage = add_weighted_slopes(y, step, a[stage], slopes);
      k[stage] = f(stage >= 5 ? t_next : t + c[stage] * step, y_stage, step);
      slopes.push_back(&k[stage]);
      if (stage == 6) y_next = std::move(y_stage);
    }
    double ratio;
    {
      NoGradGuard no_grad;
      ratio = error_ratio(weighted_slopes(step, error_weights, slopes), y, y_next, options.atol, options.rtol);
    }
    if (ratio <= 1.0) {
      ++stats.accepted_steps;
      t = t_next;
      y = std::move(y_next);
      k0 = std::move(k[6]);
    } else {
      ++stats.rejected_steps;
    }
    h = step * step_factor(ratio);
  }
  stats.evaluations = f.evaluations();
  return stats;
}

}  // namespace ft::ode::detail
