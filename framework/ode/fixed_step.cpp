// Fixed-step methods on torchdiffeq's grid (FixedGridODESolver with step_size): the
// points t0 + k h, the last step shortened to land on t1.
#include <cmath>

#include "framework/core/check.h"
#include "framework/ode/integrators.h"
#include "framework/ode/state_arithmetic.h"

namespace ft::ode::detail {

namespace {

State euler_step(CountedField& f, const State& y, double t, double h) {
  State k = f(t, y, h);
  return add_weighted_slopes(y, h, {1.0}, {&k});
}

// Kutta's 3/8 rule, torchdiffeq's rk4_alt_step_func.
State rk4_step(CountedField& f, const State& y, double t, double h, double t_next) {
  State k1 = f(t, y, h);
  State k2 = f(t + h / 3, add_weighted_slopes(y, h, {1.0 / 3}, {&k1}), h);
  State k3 = f(t + 2 * h / 3, add_weighted_slopes(y, h, {-1.0 / 3, 1.0}, {&k1, &k2}), h);
  State k4 = f(t_next, add_weighted_slopes(y, h, {1.0, -1.0, 1.0}, {&k1, &k2, &k3}), h);
  return add_weighted_slopes(y, h, {1.0 / 8, 3.0 / 8, 3.0 / 8, 1.0 / 8}, {&k1, &k2, &k3, &k4});
}

}  // namespace

SolveStats integrate_fixed_step(CountedField& f, State& y, double t0, double t1, const SolverOptions& options) {
  const double direction = t1 > t0 ? 1.0 : -1.0;
  const double h = options.step_size;
  // torchdiffeq's ceil((t1 - t0) / h + 1) grid points, but a quotient that rounding
  // lifts just above a whole number (0.3 / 0.1) does not add a step of ~1e-17.
  const auto steps = int64_t(std::ceil(std::abs(t1 - t0) / h * (1 - 1e-12)));
  SolveStats stats;
  double t = t0;
  for (int64_t i = 1; i <= steps; ++i) {
    const double t_next = i == steps ? t1 : t0 + direction * double(i) * h;
    const double step = t_next - t;
    y = options.method == Method::rk4 ? rk4_step(f, y, t, step, t_next) : euler_step(f, y, t, step);
    t = t_next;
    ++stats.accepted_steps;
  }
  FT_CHECK(all_finite(y), "ode solver ({}): the state is not finite at t1 = {} after {} steps of size {} from t0 = {}",
           method_name(options.method), t1, steps, h, t0);
  stats.evaluations = f.evaluations();
  return stats;
}

}  // namespace ft::ode::detail
