// Planar flow (Rezende & Mohamed 2015) as normflows' Planar: forward is the explicit map
// z = x + u_hat tanh(w.x + b), logabsdet = log|1 + (w.u_hat) tanh'(w.x + b)|, with
// u_hat = u + (softplus(w.u) - 1 - w.u) w / |w|^2 so that w.u_hat >= -1 (invertible).
// The inverse has no closed form: along w, a = w.x + b solves the 1-D monotone equation
// a + (w.u_hat) tanh(a) = w.z + b, bracketed in [w.z + b - |w.u_hat|, w.z + b + |w.u_hat|]
// and solved per example by safeguarded Newton (bisection when a step leaves the
// bracket) to machine precision; then x = z - u_hat tanh(a).
#pragma once
#include "framework/random/generator.h"
#include "layers/flows/transform.h"

namespace ft::layers::flows {

class PlanarFlow : public Transform {
 public:
  PlanarFlow(int64_t features, Generator& gen);  // normflows' initialisation ranges
  TransformResult forward(const Tensor& x, const Tensor& context) override;
  TransformResult inverse(const Tensor& y, const Tensor& context) override;
  Tensor u_hat() const;
  Tensor u, w, b;  // [D], [D], [1]

 private:
  Tensor logabsdet_at(const Tensor& a, const Tensor& wu) const;
};

// The root a of a + c tanh(a) = t for c >= -1 (monotone in a), to machine precision.
double solve_planar_root(double c, double t);

}  // namespace ft::layers::flows
