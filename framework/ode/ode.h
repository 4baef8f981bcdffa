// ODE solvers on ft::Tensor, differentiable: what continuous normalizing flows
// (FFJORD) integrate. The state is a list of tensors, so that a flow integrates its
// sample, its log-density and any regularisers together. The arithmetic is written
// with ops (framework/ops), so it runs on any device the ops run on.
//
// Methods, as torchdiffeq 0.2.4's of the same names:
//   dopri5  Dormand-Prince 5(4) with FSAL, adaptive. Error norm: torchdiffeq's mixed
//           norm, the largest over the state's tensors of each tensor's RMS of
//           error / (atol + rtol * max(|y_old|, |y_new|)); a step is accepted when it
//           is <= 1. Controller: safety 0.9, growth at most 10x, shrink at most 5x
//           (and not at all after an accepted step), exponent 1/5. First step by
//           Hairer's rule (torchdiffeq's _select_initial_step), one evaluation of its
//           own. Unlike torchdiffeq, the last step is shortened to land on t1 rather
//           than stepping past t1 and interpolating back.
//   rk4     Kutta's 3/8 rule (torchdiffeq's "rk4" is rk4_alt_step_func, the 3/8 rule,
//           not the classic 1/6-1/3-1/3-1/6 scheme): 4 evaluations a step.
//   euler   1 evaluation a step.
// The fixed-step grid is torchdiffeq's: t0 + k*step_size, the last step shortened to
// land on t1.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "framework/core/tensor.h"

namespace ft::ode {

using State = std::vector<Tensor>;
// dy/dt at (t, y): one tensor per state tensor, shaped as it.
using VectorField = std::function<State(double t, const State& y)>;

enum class Method { dopri5, rk4, euler };
// "dopri5", "rk4" or "euler"; anything else fails listing the choices.
Method parse_method(const std::string& name);
const char* method_name(Method method);

struct SolverOptions {
  Method method = Method::dopri5;
  double atol = 1e-5, rtol = 1e-5;  // dopri5
  double step_size = 0.0;           // rk4 and euler: required > 0
  // More evaluations of the vector field than this fail, naming the cap, the time
  // reached and the step size (a stiff or diverging field would otherwise run on).
  int64_t max_evaluations = 10000;
};

struct SolveStats {
  int64_t evaluations = 0, accepted_steps = 0, rejected_steps = 0;
};

struct Solution {
  State y;  // at t1
  SolveStats stats;
  // solve_adjoint only: the backward (adjoint) solve's counts, filled when the
  // gradient has been computed; null for solve.
  std::shared_ptr<const SolveStats> adjoint_stats;
};

// Integrates dy/dt = f(t, y) from t0 to t1 (t1 < t0 integrates backward; t0 == t1
// returns y0). With grad mode on, the result is differentiable by backpropagation
// through the solver's steps; step sizes are chosen on detached error estimates, as
// torchdiffeq's are, so they are constants of the graph.
Solution solve(const VectorField& f, const State& y0, double t0, double t1, const SolverOptions& options);

// The same values, differentiable with respect to y0 and `parameters` (the tensors f
// closes over; those that do not require grad are left out) by the adjoint method:
// the forward solve records no graph; the gradient integrates the augmented system
// [y, a, a_theta] from t1 back to t0 with adjoint_options (torchdiffeq's adjoint_rtol,
// adjoint_atol), its vector-Jacobian products by ft::grad. Memory does not grow with
// the number of steps. First-order only: a graph of the gradient (create_graph)
// fails by name. The state tensors must share one dtype and device.
Solution solve_adjoint(const VectorField& f, const State& y0, double t0, double t1,
                       const std::vector<Tensor>& parameters, const SolverOptions& options,
                       const SolverOptions& adjoint_options);

}  // namespace ft::ode
