#include "framework/ode/counted_field.h"

#include "framework/core/check.h"

namespace ft::ode::detail {

State CountedField::operator()(double t, const State& y, double step) {
  if (evaluations_ >= max_evaluations_)
    FT_FAIL("ode solver ({}): more than max_evaluations = {} evaluations of the vector field, at t = {} with step "
            "size {}, integrating from {} to {}",
            method_name(method_), max_evaluations_, t, step, t0_, t1_);
  ++evaluations_;
  State dy = f_(t, y);
  FT_CHECK(dy.size() == y.size(), "ode solver: the vector field returned {} tensors for a state of {}", dy.size(),
           y.size());
  for (size_t i = 0; i < y.size(); ++i) {
    FT_CHECK(dy[i].defined(), "ode solver: the vector field's tensor {} is undefined", i);
    FT_CHECK(dy[i].shape() == y[i].shape() && dy[i].dtype() == y[i].dtype(),
             "ode solver: the vector field's tensor {} is {} {} but the state's is {} {}", i, dtype_name(dy[i].dtype()),
             shape_str(dy[i].shape()), dtype_name(y[i].dtype()), shape_str(y[i].shape()));
  }
  return dy;
}

}  // namespace ft::ode::detail
