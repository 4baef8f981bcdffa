// The integration loops behind ode::solve, on a validated, non-empty state.
#pragma once
#include "framework/ode/counted_field.h"
#include "framework/ode/ode.h"

namespace ft::ode::detail {

// Dormand-Prince 5(4), adaptive (ode.h says how). Replaces y (at t0) by y at t1.
SolveStats integrate_dopri5(CountedField& f, State& y, double t0, double t1, const SolverOptions& options);

// rk4 (3/8 rule) or euler on torchdiffeq's grid of step options.step_size.
SolveStats integrate_fixed_step(CountedField& f, State& y, double t0, double t1, const SolverOptions& options);

}  // namespace ft::ode::detail
