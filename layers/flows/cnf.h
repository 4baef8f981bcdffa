// A continuous normalizing flow (FFJORD, Grathwohl et al. 2019) as a Transform:
// dz/dt = f(t, z) with f an OdeNetwork (ode_networks.h), integrated by framework/ode
// from t = 0 to T in forward (data -> noise) together with
//   d(logdet)/dt = tr(df/dz),
// so forward's logabsdet = log|det dz(T)/dz(0)| = integral_0^T tr(df/dz) dt (the
// instantaneous change of variables; log p(z(0)) = log p(z(T)) + logabsdet, as the
// Transform contract has it). The inverse integrates from T back to 0: exact up to
// the solver's tolerance; its logabsdet is minus the forward one's.
//
// The trace, per example:
//   exact       D vector-Jacobian products (one per dimension of an example): toys.
//   hutchinson  v^T (df/dz) v with one probe v per example, fixed over the solve
//               (FFJORD's estimator), drawn from the block's forward stream
//               (stochastic_transform.h); one vector-Jacobian product per evaluation.
// Each product keeps its graph when the caller records one (create_graph), so the
// estimate trains; without a graph (eval, sampling) the block computes under grad
// mode anyway and returns detached results.
//
// Gradients: by backpropagation through the solver's steps, or with `adjoint` by the
// adjoint method (ode::solve_adjoint, tolerances those of the forward solve).
//
// RNODE (Finlay et al. 2020): with a weight > 0, forward integrates in training the
// kinetic energy  integral |f|^2 dt  and the Jacobian norm  integral |v^T df/dz|^2 dt
// (with the exact trace: the squared Frobenius norm of df/dz itself) per example;
// take_regularisation() hands over their weighted sum [N], which ComposedFlowModel
// subtracts from the log-likelihood (composed_flow_model.h).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "framework/ode/ode.h"
#include "layers/flows/ode_networks.h"
#include "layers/flows/stochastic_transform.h"

namespace ft::layers::flows {

enum class TraceEstimator { exact, hutchinson };
TraceEstimator parse_trace_estimator(const std::string& name, const std::string& key);

struct ContinuousFlowOptions {
  ode::SolverOptions solver;  // method, atol, rtol, step_size, max_evaluations
  bool adjoint = false;
  double time_length = 1.0;  // T
  TraceEstimator trace = TraceEstimator::hutchinson;
  TraceProbe probe = TraceProbe::gaussian;
  double kinetic_weight = 0.0, jacobian_weight = 0.0;  // RNODE's lambdas
  void validate(const std::string& who) const;
  bool regularised() const { return kinetic_weight > 0.0 || jacobian_weight > 0.0; }
};

// What the last forward's solve did.
struct ContinuousFlowStatistics {
  int64_t forward_evaluations = 0;   // of f in the forward solve
  int64_t backward_evaluations = 0;  // of the adjoint system's field (0 before backward, or without adjoint)
  std::optional<double> kinetic_energy, jacobian_norm;  // batch means, when integrated
};

class ContinuousFlow : public StochasticTransform {
 public:
  // label names the block in errors ("model.transforms[0]", "cnf_multiscale scale 1 block 0").
  ContinuousFlow(std::shared_ptr<OdeNetwork> net, ContinuousFlowOptions options, std::string label);
  TransformResult forward(const Tensor& x, const Tensor& context) override;
  TransformResult inverse(const Tensor& y, const Tensor& context) override;
  // The weighted RNODE terms of the last training forward, [N] (undefined when none
  // were integrated); handed over once, so no graph stays behind in the block.
  Tensor take_regularisation() override;
  ContinuousFlowStatistics statistics() const;
  const ContinuousFlowOptions& options() const { return options_; }
  OdeNetwork& net() { return *net_; }

 private:
  struct Integration {
    Tensor y, logdet, kinetic, jacobian;  // the last two when regularised
  };
  Integration integrate(const Tensor& x, double t0, double t1, bool regularise);
  ode::VectorField field(const Tensor& probes, bool regularise);
  // tr(df/dz) per example and, when wanted, the squared norm of the products taken.
  void divergence(const Tensor& f, const Tensor& z, const Tensor& probes, bool create_graph, Tensor* trace,
                  Tensor* squared_norm) const;
  std::shared_ptr<OdeNetwork> net_;
  ContinuousFlowOptions options_;
  std::string label_;
  Tensor regularisation_;
  ContinuousFlowStatistics statistics_;
  std::shared_ptr<const ode::SolveStats> adjoint_stats_;
};

}  // namespace ft::layers::flows
