// Continuous normalizing flows (layers/flows/cnf.h, cnf_multiscale.h): the
// log-determinant against the brute-force Jacobian of the forward map in f64 (exact
// trace; vectors and the multiscale image architecture); Hutchinson's trace unbiased
// within 3 standard errors; exact inversion to the solver's tolerance; backprop and
// adjoint gradients alike; a linear field against its closed form (sign included);
// the RNODE integrals against their definitions and in the model's training
// log-likelihood; the solver's counts and its evaluation cap's error.
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "framework/autograd/grad.h"
#include "framework/autograd/grad_mode.h"
#include "framework/ops/ops.h"
#include "layers/flows/cnf.h"
#include "layers/flows/cnf_multiscale.h"
#include "layers/flows/composed_flow_model.h"
#include "tests/layers/flow_testing.h"
#include "tests/support/error_message.h"

using namespace ft;
using namespace ft::layers::flows;

namespace {

// dz/dt = A z.
class LinearField : public OdeNetwork {
 public:
  explicit LinearField(const Tensor& a) : a_(a.clone()) { register_parameter("a", &a_); }
  Tensor forward(double, const Tensor& z) override { return linear(z, a_, Tensor()); }

 private:
  Tensor a_;
};

ContinuousFlowOptions tight(TraceEstimator trace) {
  ContinuousFlowOptions o;
  o.solver.atol = o.solver.rtol = 1e-10;
  o.trace = trace;
  return o;
}

// A concat-squash MLP field over d features in f64 with perturbed weights, so the
// flow is far from the identity.
std::shared_ptr<ContinuousFlow> mlp_flow(int64_t d, ContinuousFlowOptions options, uint64_t seed = 3) {
  Generator gen(seed);
  auto net = std::make_shared<ConcatSquashMlp>(d, 16, 2, OdeActivation::tanh, gen);
  auto flow = std::make_shared<ContinuousFlow>(net, options, "test cnf");
  flow->to_dtype(DType::f64);
  testing::perturb_parameters(*flow, seed + 10, 1.0);
  flow->set_training(false);
  return flow;
}

Tensor random_rows(int64_t n, int64_t d, uint64_t seed) {
  Generator gen(seed);
  return normal({n, d}, 0.0, 1.5, gen, DType::f64);
}

double entry(const Tensor& t, int64_t i) { return t.to_double_vector()[size_t(i)]; }

// exp(M) by its Taylor series (|M| small), row-major d x d.
std::vector<double> expm(const std::vector<double>& m, int64_t d) {
  std::vector<double> result(size_t(d * d), 0.0), term(size_t(d * d), 0.0);
  for (int64_t i = 0; i < d; ++i) result[size_t(i * d + i)] = term[size_t(i * d + i)] = 1.0;
  for (int k = 1; k < 40; ++k) {
    std::vector<double> next(size_t(d * d), 0.0);
    for (int64_t i = 0; i < d; ++i)
      for (int64_t j = 0; j < d; ++j)
        for (int64_t l = 0; l < d; ++l) next[size_t(i * d + j)] += term[size_t(i * d + l)] * m[size_t(l * d + j)] / k;
    term = next;
    for (size_t i = 0; i < term.size(); ++i) result[i] += term[i];
  }
  return result;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(continuous_flows)

BOOST_AUTO_TEST_CASE(exact_logdet_is_that_of_the_brute_force_jacobian) {
  auto flow = mlp_flow(3, tight(TraceEstimator::exact));
  Tensor x = random_rows(3, 3, 5);
  TransformResult r;
  {
    NoGradGuard no_grad;
    r = flow->forward(x, Tensor());
  }
  double worst = 0.0;
  for (int64_t e = 0; e < 3; ++e) {
    Tensor jac = testing::jacobian([&](const Tensor& xe) { return flow->forward(xe, Tensor()).y; }, x.slice(0, e, e + 1));
    double brute = logabsdet(jac).item(), got = entry(r.logabsdet, e);
    BOOST_TEST(std::abs(brute) > 0.1);  // the map is far from volume-preserving
    worst = std::max(worst, std::abs(brute - got));
  }
  BOOST_TEST_MESSAGE("vector CNF: largest |logdet - brute force| " << worst);
  BOOST_TEST(worst < 1e-7);
}

BOOST_AUTO_TEST_CASE(multiscale_architecture_inverts_and_its_logdet_is_the_brute_force_one) {
  CnfMultiscaleConfig c;
  c.channels = 1;
  c.image_size = 4;
  c.scales = 2;
  c.hidden = 4;
  c.hidden_layers = 1;
  c.actnorm = true;
  // A fixed-step solver makes the forward map smooth in x, so central differences
  // give its Jacobian; the integrated trace then differs from it by rk4's error.
  c.flow = tight(TraceEstimator::exact);
  c.flow.solver.method = ode::Method::rk4;
  c.flow.solver.step_size = 0.025;
  Generator gen(8);
  auto flow = cnf_multiscale_transform(c, gen);
  flow->to_dtype(DType::f64);
  testing::perturb_parameters(*flow, 9, 0.3);
  flow->set_training(false);
  Generator data(10);
  Tensor x = normal({2, 1, 4, 4}, 0.0, 1.0, data, DType::f64);
  NoGradGuard no_grad;
  TransformResult forward = flow->forward(x, Tensor());
  TransformResult inverse = flow->inverse(forward.y, Tensor());
  BOOST_TEST(forward.y.shape() == (Shape{2, 4, 2, 2}));
  BOOST_TEST(testing::max_abs_difference(inverse.y, x) < 1e-6);
  BOOST_TEST(testing::max_abs_difference(inverse.logabsdet, neg(forward.logabsdet)) < 1e-6);
  double worst = 0.0, h = 1e-5;
  for (int64_t e = 0; e < 2; ++e) {
    // Every +-h perturbation of the example's 16 pixels in one batch.
    std::vector<Tensor> shifted;
    for (double sign : {1.0, -1.0})
      for (int64_t j = 0; j < 16; ++j) {
        Tensor xe = x.slice(0, e, e + 1).clone().reshape({1, 16});
        xe.slice(1, j, j + 1).copy_(add(xe.slice(1, j, j + 1), sign * h));
        shifted.push_back(xe.reshape({1, 1, 4, 4}));
      }
    Tensor y = flow->forward(concat(shifted, 0), Tensor()).y.reshape({2, 16, 16});
    Tensor jac = mul(sub(y.select(0, 0), y.select(0, 1)), 0.5 / h).transpose(0, 1).contiguous();  // [out, in]
    double brute = logabsdet(jac).item();
    BOOST_TEST(std::abs(brute) > 0.1);
    worst = std::max(worst, std::abs(brute - entry(forward.logabsdet, e)));
  }
  BOOST_TEST_MESSAGE("cnf_multiscale: largest |logdet - brute force| " << worst);
  BOOST_TEST(worst < 1e-6);
}

BOOST_AUTO_TEST_CASE(hutchinson_trace_is_unbiased_within_three_standard_errors) {
  // A fixed-step solver, so the steps do not depend on the probes: the estimate's
  // expectation is then the exact-trace result on the same grid.
  ContinuousFlowOptions fixed = tight(TraceEstimator::exact);
  fixed.solver.method = ode::Method::rk4;
  fixed.solver.step_size = 0.1;
  auto exact = mlp_flow(3, fixed);
  Tensor x = random_rows(1, 3, 6);
  double truth;
  {
    NoGradGuard no_grad;
    truth = entry(exact->forward(x, Tensor()).logabsdet, 0);
  }
  const int64_t samples = 2000;
  Tensor copies = concat(std::vector<Tensor>(size_t(samples), x), 0);
  for (TraceProbe probe : {TraceProbe::gaussian, TraceProbe::rademacher}) {
    ContinuousFlowOptions o = fixed;
    o.trace = TraceEstimator::hutchinson;
    o.probe = probe;
    auto estimator = mlp_flow(3, o);
    estimator->set_generator(Generator(21, 4));
    std::vector<double> estimates;
    {
      NoGradGuard no_grad;
      estimates = estimator->forward(copies, Tensor()).logabsdet.to_double_vector();
    }
    double m = 0.0, m2 = 0.0;
    for (double v : estimates) m += v / samples;
    for (double v : estimates) m2 += (v - m) * (v - m) / (samples - 1);
    double standard_error = std::sqrt(m2 / samples);
    BOOST_TEST_MESSAGE("hutchinson " << (probe == TraceProbe::gaussian ? "gaussian" : "rademacher") << ": mean " << m
                                     << " exact " << truth << " standard error " << standard_error);
    BOOST_TEST(standard_error > 0.0);
    BOOST_TEST(std::abs(m - truth) < 3.0 * standard_error);
  }
}

BOOST_AUTO_TEST_CASE(inverse_undoes_forward_to_the_solver_tolerance) {
  for (ode::Method method : {ode::Method::dopri5, ode::Method::rk4}) {
    ContinuousFlowOptions o = tight(TraceEstimator::exact);
    o.solver.method = method;
    o.solver.step_size = 0.01;
    auto flow = mlp_flow(2, o);
    Tensor x = random_rows(6, 2, 7);
    NoGradGuard no_grad;
    TransformResult forward = flow->forward(x, Tensor());
    TransformResult inverse = flow->inverse(forward.y, Tensor());
    BOOST_TEST(testing::max_abs(sub(forward.y, x)) > 0.1);
    BOOST_TEST(testing::max_abs_difference(inverse.y, x) < 1e-7, ode::method_name(method));
    BOOST_TEST(testing::max_abs_difference(inverse.logabsdet, neg(forward.logabsdet)) < 1e-7);
  }
}

BOOST_AUTO_TEST_CASE(adjoint_gradients_are_those_of_backpropagation) {
  for (TraceEstimator trace : {TraceEstimator::exact, TraceEstimator::hutchinson}) {
    ContinuousFlowOptions o = tight(trace);
    o.solver.atol = o.solver.rtol = 1e-9;
    auto backprop = mlp_flow(3, o);
    o.adjoint = true;
    auto adjoint = mlp_flow(3, o);  // the same weights (same seeds)
    Tensor x = random_rows(4, 3, 8);
    x.set_requires_grad(true);
    auto gradients = [&](ContinuousFlow& flow) {
      flow.set_generator(Generator(5, 6));  // the same probes
      TransformResult r = flow.forward(x, Tensor());
      Tensor loss = add(sum(square(r.y)), sum(r.logabsdet));
      std::vector<Tensor> wrt = flow.parameters();
      wrt.push_back(x);
      return grad({loss}, wrt);
    };
    std::vector<Tensor> expected = gradients(*backprop), actual = gradients(*adjoint);
    BOOST_TEST(adjoint->statistics().backward_evaluations > 0);
    BOOST_TEST(backprop->statistics().backward_evaluations == 0);
    for (size_t i = 0; i < expected.size(); ++i)
      testing::check_close("adjoint gradient " + std::to_string(i), actual[i], expected[i], 1e-5);
  }
}

BOOST_AUTO_TEST_CASE(linear_field_matches_its_closed_form) {
  const int64_t d = 3;
  const double T = 0.8;
  std::vector<double> a = {0.3, -0.5, 0.2, 0.4, 0.1, -0.3, -0.2, 0.6, 0.3};  // tr A = 0.7
  ContinuousFlowOptions o = tight(TraceEstimator::exact);
  o.time_length = T;
  ContinuousFlow flow(std::make_shared<LinearField>(Tensor::from_vector(a, {d, d})), o, "linear");
  Tensor x = random_rows(2, d, 9);
  TransformResult r;
  {
    NoGradGuard no_grad;
    r = flow.forward(x, Tensor());
  }
  std::vector<double> at(a.size());
  for (size_t i = 0; i < a.size(); ++i) at[i] = a[i] * T;
  Tensor propagator = Tensor::from_vector(expm(at, d), {d, d});
  Tensor expected = linear(x, propagator, Tensor());  // rows expm(AT) z0
  BOOST_TEST(testing::max_abs_difference(r.y, expected) < 1e-8);
  for (int64_t e = 0; e < 2; ++e) BOOST_TEST(std::abs(entry(r.logabsdet, e) - T * 0.7) < 1e-9);
}

BOOST_AUTO_TEST_CASE(rnode_terms_are_their_integrals_and_enter_the_training_likelihood) {
  // dz/dt = a z: z(t) = e^(at) z0, so the kinetic energy is a |z0|^2 (e^(2aT) - 1) / 2,
  // the Frobenius norm's integral a^2 D T, and with Rademacher probes |v^T A|^2 = a^2 D too.
  const int64_t d = 2;
  const double a = 0.6, T = 1.0;
  Tensor x = random_rows(3, d, 10);
  std::vector<double> rows = x.to_double_vector();
  for (TraceEstimator trace : {TraceEstimator::exact, TraceEstimator::hutchinson}) {
    ContinuousFlowOptions o = tight(trace);
    o.probe = TraceProbe::rademacher;
    o.kinetic_weight = 0.25;
    o.jacobian_weight = 0.5;
    auto flow = std::make_shared<ContinuousFlow>(
        std::make_shared<LinearField>(Tensor::from_vector<double>({a, 0.0, 0.0, a}, {d, d})), o, "rnode");
    flow->set_training(true);
    flow->forward(x, Tensor());
    std::vector<double> penalty = flow->take_regularisation().to_double_vector();
    BOOST_TEST(!flow->take_regularisation().defined());  // handed over once
    ContinuousFlowStatistics s = flow->statistics();
    double kinetic_mean = 0.0;
    for (int64_t e = 0; e < 3; ++e) {
      double z0 = rows[size_t(2 * e)] * rows[size_t(2 * e)] + rows[size_t(2 * e + 1)] * rows[size_t(2 * e + 1)];
      double kinetic = a * z0 * (std::exp(2.0 * a * T) - 1.0) / 2.0, jacobian = a * a * double(d) * T;
      kinetic_mean += kinetic / 3.0;
      BOOST_TEST(std::abs(penalty[size_t(e)] - (0.25 * kinetic + 0.5 * jacobian)) < 1e-8);
    }
    BOOST_TEST(std::abs(*s.kinetic_energy - kinetic_mean) < 1e-8);
    BOOST_TEST(std::abs(*s.jacobian_norm - a * a * double(d) * T) < 1e-8);
  }

  // The model subtracts the penalty from log p(x) in training only.
  ContinuousFlowOptions o = tight(TraceEstimator::exact);
  o.kinetic_weight = 1.0;
  auto flow = std::make_shared<ContinuousFlow>(
      std::make_shared<LinearField>(Tensor::from_vector<double>({a, 0.0, 0.0, a}, {d, d})), o, "rnode");
  ComposedFlowOptions options;
  options.data_shape = options.latent_shape = {d};
  options.scaling = layers::vector_scaling();
  ComposedFlowModel model(flow, std::make_shared<StandardNormal>(d), options);
  model.to_dtype(DType::f64);
  model.set_training(false);
  std::vector<double> exact = model.forward(x, Tensor()).log_prob.to_double_vector();
  model.set_training(true);
  std::vector<double> trained = model.forward(x, Tensor()).log_prob.to_double_vector();
  nlohmann::json stats = model.step_statistics();
  BOOST_TEST(stats["nfe_forward"].get<int64_t>() > 0);
  BOOST_TEST(!stats.contains("nfe_backward"));
  for (int64_t e = 0; e < 3; ++e) {
    double z0 = rows[size_t(2 * e)] * rows[size_t(2 * e)] + rows[size_t(2 * e + 1)] * rows[size_t(2 * e + 1)];
    BOOST_TEST(std::abs(exact[size_t(e)] - trained[size_t(e)] - a * z0 * (std::exp(2.0 * a * T) - 1.0) / 2.0) < 1e-8);
  }
}

BOOST_AUTO_TEST_CASE(solver_counts_evaluations_and_its_cap_names_the_block) {
  ContinuousFlowOptions o = tight(TraceEstimator::exact);
  o.solver.method = ode::Method::rk4;
  o.solver.step_size = 0.25;
  auto flow = mlp_flow(2, o);
  Tensor x = random_rows(2, 2, 11);
  {
    NoGradGuard no_grad;
    flow->forward(x, Tensor());
  }
  BOOST_TEST(flow->statistics().forward_evaluations == 16);  // 4 steps of 4 evaluations

  ContinuousFlowOptions capped = tight(TraceEstimator::exact);
  capped.solver.max_evaluations = 5;
  auto failing = mlp_flow(2, capped);
  std::string message = testing::error_message([&] {
    NoGradGuard no_grad;
    failing->forward(x, Tensor());
  });
  BOOST_TEST(message.find("test cnf: ") == 0, message);
  BOOST_TEST(message.find("5") != std::string::npos, message);
  BOOST_TEST(message.find("raise max_evaluations") != std::string::npos, message);
  BOOST_TEST(message.find('\n') == std::string::npos, message);
}

BOOST_AUTO_TEST_SUITE_END()
