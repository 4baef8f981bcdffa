#include <cmath>

#include "framework/core/check.h"
#include "framework/ode/integrators.h"
#include "framework/ode/ode.h"
#include "framework/ode/state_arithmetic.h"

namespace ft::ode {

Method parse_method(const std::string& name) {
  if (name == "dopri5") return Method::dopri5;
  if (name == "rk4") return Method::rk4;
  if (name == "euler") return Method::euler;
  FT_FAIL("unknown ODE method '{}'; the choices are dopri5, rk4, euler", name);
}

const char* method_name(Method method) {
  switch (method) {
    case Method::dopri5: return "dopri5";
    case Method::rk4: return "rk4";
    case Method::euler: return "euler";
  }
  return "unknown";
}

namespace {

void check_problem(const State& y0, double t0, double t1, const SolverOptions& options) {
  FT_CHECK(!y0.empty(), "ode solver: an empty initial state (no tensors)");
  for (size_t i = 0; i < y0.size(); ++i) FT_CHECK(y0[i].defined(), "ode solver: initial state tensor {} is undefined", i);
  FT_CHECK(std::isfinite(t0) && std::isfinite(t1), "ode solver: integration from t0 = {} to t1 = {}", t0, t1);
  FT_CHECK(options.max_evaluations > 0, "ode solver: max_evaluations = {}, must be > 0", options.max_evaluations);
  if (options.method == Method::dopri5)
    FT_CHECK(options.atol > 0 && options.rtol >= 0, "ode solver (dopri5): atol = {} and rtol = {}; needs atol > 0, rtol >= 0",
             options.atol, options.rtol);
  else
    FT_CHECK(options.step_size > 0 && std::isfinite(options.step_size),
             "ode solver ({}): step_size = {}; a fixed-step method needs step_size > 0", method_name(options.method),
             options.step_size);
  for (size_t i = 0; i < y0.size(); ++i)
    FT_CHECK(detail::all_finite({y0[i]}), "ode solver: initial state tensor {} ({}) is not finite", i,
             shape_str(y0[i].shape()));
}

}  // namespace

Solution solve(const VectorField& f, const State& y0, double t0, double t1, const SolverOptions& options) {
  check_problem(y0, t0, t1, options);
  Solution solution;
  solution.y = y0;
  if (t0 == t1) return solution;
  detail::CountedField field(f, options.method, options.max_evaluations, t0, t1);
  solution.stats = options.method == Method::dopri5 ? detail::integrate_dopri5(field, solution.y, t0, t1, options)
                                                    : detail::integrate_fixed_step(field, solution.y, t0, t1, options);
  return solution;
}

}  // namespace ft::ode
