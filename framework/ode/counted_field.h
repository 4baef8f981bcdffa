// The vector field as the integrators call it: every evaluation counted against
// SolverOptions::max_evaluations and its result checked against the state.
#pragma once
#include <cstdint>

#include "framework/ode/ode.h"

namespace ft::ode::detail {

class CountedField {
 public:
  CountedField(const VectorField& f, Method method, int64_t max_evaluations, double t0, double t1)
      : f_(f), method_(method), max_evaluations_(max_evaluations), t0_(t0), t1_(t1) {}

  // f(t, y); step is the step being taken, for the message when the cap is reached.
  State operator()(double t, const State& y, double step);
  int64_t evaluations() const { return evaluations_; }

 private:
  const VectorField& f_;
  Method method_;
  int64_t max_evaluations_;
  double t0_, t1_;
  int64_t evaluations_ = 0;
};

}  // namespace ft::ode::detail
