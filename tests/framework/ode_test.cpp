// framework/ode in f64: closed-form solutions, convergence orders of the fixed-step
// methods, gradients by backpropagation and by the adjoint against each other and
// central differences, the error messages, and parity with torchdiffeq 0.2.4
// (tests/golden/make_ode_golden.py, fixture golden_ode).
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <unordered_set>
#include <string>
#include <vector>

#include "framework/autograd/grad.h"
#include "framework/autograd/grad_mode.h"
#include "framework/autograd/node.h"
#include "framework/ode/ode.h"
#include "framework/ops/ops.h"
#include "tests/framework/gradcheck.h"
#include "tests/support/error_message.h"
#include "tests/support/golden_file.h"
#include "tests/support/tensor_compare.h"

using namespace ft;
using ft::testing::error_message;
using ft::ode::Method;
using ft::ode::SolverOptions;
using ft::ode::State;

namespace {

Tensor f64(const std::vector<double>& values, const Shape& shape) { return Tensor::from_vector(values, shape); }
Tensor f64(const std::vector<double>& values) { return f64(values, {int64_t(values.size())}); }

SolverOptions dopri5(double tolerance) {
  SolverOptions options;
  options.atol = options.rtol = tolerance;
  return options;
}

SolverOptions fixed_step(Method method, double step_size) {
  SolverOptions options;
  options.method = method;
  options.step_size = step_size;
  return options;
}

// max |actual - expected| over every element of every tensor.
double state_error(const State& actual, const State& expected) {
  double worst = 0.0;
  for (size_t i = 0; i < actual.size(); ++i)
    worst = std::max(worst, ft::testing::max_abs_difference(actual[i], expected[i]));
  return worst;
}

// dy/dt = -y^2, whose solution is y0 / (1 + y0 t): smooth and nonlinear.
State riccati(double, const State& y) { return {neg(square(y[0]))}; }
Tensor riccati_exact(const Tensor& y0, double t) {
  NoGradGuard no_grad;
  return div(y0, add(mul(y0, t), 1.0));
}

// The golden file's field (tests/golden/make_ode_golden.py) on the state (z, l):
// dz/dt = W2 tanh(W1 [z, t] + b1) + b2, dl/dt = -sum_j (dz/dt)_j^2.
struct MlpField {
  Tensor w1, b1, w2, b2;

  State operator()(double t, const State& y) const {
    const Tensor& z = y[0];
    Tensor zt = concat({z, Tensor::full({z.size(0), 1}, t, DType::f64)}, 1);
    Tensor dz = linear(tanh(linear(zt, w1, b1)), w2, b2);
    return {dz, neg(sum(square(dz), {1}, true))};
  }
  std::vector<Tensor> parameters() const { return {w1, b1, w2, b2}; }
};

MlpField random_mlp_field(int64_t d, int64_t hidden, uint64_t stream) {
  using ft::testing::leaf;
  return {leaf({hidden, d + 1}, stream, -1.5, 1.5), leaf({hidden}, stream + 1, -0.5, 0.5),
          leaf({d, hidden}, stream + 2, -0.5, 0.5), leaf({d}, stream + 3, -0.5, 0.5)};
}

// The autograd nodes a tensor's gradient would run through.
size_t graph_size(const Tensor& t) {
  std::unordered_set<const Node*> seen;
  std::vector<const Node*> stack = {t.grad_fn().get()};
  while (!stack.empty()) {
    const Node* node = stack.back();
    stack.pop_back();
    if (!node || !seen.insert(node).second) continue;
    for (const auto& next : node->next) stack.push_back(next.get());
  }
  return seen.size();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ode)

BOOST_AUTO_TEST_CASE(exponential_growth_within_dopri5s_tolerance_and_back_to_the_start) {
  const double a = 0.7, t1 = 1.5, tolerance = 1e-8;
  Tensor y0 = f64({1.0, -2.0, 0.5, 3.0});
  auto growth = [a](double, const State& y) { return State{mul(y[0], a)}; };
  ft::ode::Solution forward = ft::ode::solve(growth, {y0}, 0.0, t1, dopri5(tolerance));
  const double error = state_error(forward.y, {mul(y0, std::exp(a * t1))});
  BOOST_TEST_MESSAGE("exp: dopri5 error " << error << " at tolerance " << tolerance << ", "
                                          << forward.stats.evaluations << " evaluations");
  BOOST_TEST(error < 20 * tolerance * std::exp(a * t1) * 3.0);
  // Every attempt costs 6 evaluations (FSAL), plus f(t0) and the first-step probe.
  BOOST_TEST(forward.stats.evaluations == 2 + 6 * (forward.stats.accepted_steps + forward.stats.rejected_steps));
  ft::ode::Solution back = ft::ode::solve(growth, forward.y, t1, 0.0, dopri5(tolerance));
  BOOST_TEST(state_error(back.y, {y0}) < 60 * tolerance);
  // t0 == t1 returns y0 without evaluating the field.
  ft::ode::Solution none = ft::ode::solve(growth, {y0}, 2.0, 2.0, dopri5(tolerance));
  BOOST_TEST(none.y[0].same(y0));
  BOOST_TEST(none.stats.evaluations == 0);
}

BOOST_AUTO_TEST_CASE(an_f32_state_integrates_with_its_error_norm_in_f64) {
  Tensor y0 = Tensor::from_vector(std::vector<float>{1.0f, -2.0f, 0.5f}, {3});
  auto growth = [](double, const State& y) { return State{mul(y[0], 0.7)}; };
  ft::ode::Solution s = ft::ode::solve(growth, {y0}, 0.0, 1.0, dopri5(1e-5));
  BOOST_TEST(s.y[0].dtype() == DType::f32);
  const double error = state_error({s.y[0].to(DType::f64)}, {mul(y0.to(DType::f64), std::exp(0.7))});
  BOOST_TEST_MESSAGE("exp in f32: dopri5 error " << error << " at tolerance 1e-5");
  BOOST_TEST(error < 1e-4);
}

BOOST_AUTO_TEST_CASE(harmonic_oscillator_rotates_and_keeps_its_energy) {
  // x' = v, v' = -x as a two-tensor state: a rotation by t.
  auto oscillator = [](double, const State& y) { return State{y[1], neg(y[0])}; };
  Tensor x0 = f64({1.0, 0.0, 0.6}), v0 = f64({0.0, 1.0, -0.8});
  const double t = 3.0, tolerance = 1e-9;
  for (Method method : {Method::dopri5, Method::rk4}) {
    SolverOptions options = method == Method::dopri5 ? dopri5(tolerance) : fixed_step(Method::rk4, 0.01);
    ft::ode::Solution s = ft::ode::solve(oscillator, {x0, v0}, 0.0, t, options);
    State exact = {add(mul(x0, std::cos(t)), mul(v0, std::sin(t))), sub(mul(v0, std::cos(t)), mul(x0, std::sin(t)))};
    const double error = state_error(s.y, exact);
    Tensor energy = add(square(s.y[0]), square(s.y[1]));
    const double drift = ft::testing::max_abs_difference(energy, add(square(x0), square(v0)));
    BOOST_TEST_MESSAGE("oscillator: " << ft::ode::method_name(method) << " error " << error << ", energy drift " << drift
                                      << ", " << s.stats.evaluations << " evaluations");
    BOOST_TEST(error < 1e-7);
    BOOST_TEST(drift < 1e-7);
  }
}

BOOST_AUTO_TEST_CASE(polynomial_in_time_is_exact_for_the_runge_kutta_methods_and_euler_is_off_by_h_t_over_2) {
  // dy/dt = t: y(t1) = y0 + (t1^2 - t0^2) / 2.
  auto ramp = [](double t, const State& y) { return State{Tensor::full(y[0].shape(), t, DType::f64)}; };
  Tensor y0 = f64({0.25, -1.0});
  const double t0 = 0.5, t1 = 2.0, h = 0.1;
  Tensor exact = add(y0, (t1 * t1 - t0 * t0) / 2);
  BOOST_TEST(state_error(ft::ode::solve(ramp, {y0}, t0, t1, dopri5(1e-6)).y, {exact}) < 1e-12);
  BOOST_TEST(state_error(ft::ode::solve(ramp, {y0}, t0, t1, fixed_step(Method::rk4, h)).y, {exact}) < 1e-12);
  // Euler's left sums of t: the exact integral minus h (t1 - t0) / 2.
  ft::ode::Solution euler = ft::ode::solve(ramp, {y0}, t0, t1, fixed_step(Method::euler, h));
  BOOST_TEST(state_error(euler.y, {add(exact, -h * (t1 - t0) / 2)}) < 1e-12);
  BOOST_TEST(euler.stats.evaluations == 15);
  // A step that does not divide the interval: the last one is shortened to land on t1.
  ft::ode::Solution uneven = ft::ode::solve(ramp, {y0}, t0, t1, fixed_step(Method::rk4, 0.4));
  BOOST_TEST(uneven.stats.accepted_steps == 4);
  BOOST_TEST(state_error(uneven.y, {exact}) < 1e-12);
  // Backward in time.
  BOOST_TEST(state_error(ft::ode::solve(ramp, {exact}, t1, t0, fixed_step(Method::rk4, h)).y, {y0}) < 1e-12);
}

BOOST_AUTO_TEST_CASE(fixed_step_errors_shrink_at_the_methods_orders) {
  // Mild enough that steps of 0.1 are in the asymptotic range (with y0 = 2, rk4's
  // apparent order at these steps is 3.3-3.8, torchdiffeq's too).
  Tensor y0 = f64({0.25, 0.5});
  const double t1 = 2.0;
  Tensor exact = riccati_exact(y0, t1);
  for (auto [method, order] : {std::pair{Method::rk4, 4.0}, std::pair{Method::euler, 1.0}}) {
    std::vector<double> errors;
    for (double h : {0.1, 0.05, 0.025})
      errors.push_back(state_error(ft::ode::solve(riccati, {y0}, 0.0, t1, fixed_step(method, h)).y, {exact}));
    for (size_t i = 1; i < errors.size(); ++i) {
      const double measured = std::log2(errors[i - 1] / errors[i]);
      BOOST_TEST_MESSAGE("convergence: " << ft::ode::method_name(method) << " error " << errors[i - 1] << " -> "
                                         << errors[i] << ", order " << measured);
      BOOST_TEST(std::abs(measured - order) < 0.15 * order);
    }
  }
  // Backward integration returns to the start.
  State back = ft::ode::solve(riccati, {exact}, t1, 0.0, fixed_step(Method::rk4, 0.01)).y;
  BOOST_TEST(state_error(back, {y0}) < 1e-8);
}

BOOST_AUTO_TEST_CASE(tighter_tolerances_cost_more_evaluations_and_err_less) {
  Tensor y0 = f64({0.5, 1.0, 2.0});
  Tensor exact = riccati_exact(y0, 3.0);
  int64_t previous_evaluations = 0;
  for (double tolerance : {1e-4, 1e-7, 1e-10}) {
    ft::ode::Solution s = ft::ode::solve(riccati, {y0}, 0.0, 3.0, dopri5(tolerance));
    const double error = state_error(s.y, {exact});
    BOOST_TEST_MESSAGE("riccati: dopri5 at " << tolerance << ": error " << error << ", " << s.stats.evaluations
                                             << " evaluations, " << s.stats.rejected_steps << " rejected");
    BOOST_TEST(error < 10 * tolerance);
    BOOST_TEST(s.stats.evaluations > previous_evaluations);
    previous_evaluations = s.stats.evaluations;
  }
}

BOOST_AUTO_TEST_CASE(backprop_and_adjoint_gradients_agree_with_each_other_and_finite_differences) {
  MlpField field = random_mlp_field(2, 8, 10);
  Tensor z0 = ft::testing::leaf({3, 2}, 20), l0 = ft::testing::leaf({3, 1}, 21);
  Tensor wz = ft::testing::leaf({3, 2}, 22).detach(), wl = ft::testing::leaf({3, 1}, 23).detach();
  std::vector<Tensor> inputs = {z0, l0, field.w1, field.b1, field.w2, field.b2};
  auto loss_of = [&](const State& y1) { return add(sum(mul(y1[0], wz)), sum(mul(y1[1], wl))); };
  const double t0 = 0.0, t1 = 1.2;

  auto gradients = [&](const SolverOptions& options, bool adjoint) {
    ft::ode::Solution s = adjoint ? ft::ode::solve_adjoint(field, {z0, l0}, t0, t1, field.parameters(), options, options)
                              : ft::ode::solve(field, {z0, l0}, t0, t1, options);
    std::vector<Tensor> g = grad({loss_of(s.y)}, inputs);
    if (adjoint) {
      BOOST_REQUIRE(s.adjoint_stats);
      BOOST_TEST(s.adjoint_stats->evaluations > 0);
      BOOST_TEST_MESSAGE("adjoint: forward " << s.stats.evaluations << " evaluations, backward "
                                             << s.adjoint_stats->evaluations);
    }
    return g;
  };
  std::vector<Tensor> backprop_rk4 = gradients(fixed_step(Method::rk4, 0.02), false);
  std::vector<Tensor> backprop_dopri5 = gradients(dopri5(1e-10), false);
  std::vector<Tensor> adjoint = gradients(dopri5(1e-10), true);
  std::vector<Tensor> adjoint_rk4 = gradients(fixed_step(Method::rk4, 0.02), true);

  // Central differences of the rk4 solve (smooth in its inputs: a fixed grid).
  NoGradGuard no_grad;
  auto rk4_loss = [&] { return loss_of(ft::ode::solve(field, {z0, l0}, t0, t1, fixed_step(Method::rk4, 0.02)).y).item(); };
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string name = "input " + std::to_string(i);
    std::vector<double> numeric = ft::testing::central_differences(inputs[i], rk4_loss, 1e-6);
    Tensor fd = f64(numeric, inputs[i].shape());
    const double e1 = ft::testing::check_close(name + ": backprop rk4 vs differences", backprop_rk4[i], fd, 1e-7);
    const double e2 = ft::testing::check_close(name + ": adjoint dopri5 vs differences", adjoint[i], fd, 1e-6);
    const double e3 = ft::testing::check_close(name + ": adjoint vs backprop dopri5", adjoint[i], backprop_dopri5[i], 1e-7);
    // The adjoint of a fixed-step method is a different discretisation of the same
    // gradient (its own backward steps): equal up to rk4's error.
    const double e4 = ft::testing::check_close(name + ": adjoint rk4 vs backprop rk4", adjoint_rk4[i], backprop_rk4[i], 1e-6);
    BOOST_TEST_MESSAGE("gradients " << name << ": backprop-rk4/fd " << e1 << ", adjoint/fd " << e2
                                    << ", adjoint/backprop " << e3 << ", adjoint-rk4/backprop-rk4 " << e4);
  }
}

BOOST_AUTO_TEST_CASE(adjoint_gives_no_gradient_to_state_that_needs_none_and_refuses_a_graph_of_the_gradient) {
  MlpField field = random_mlp_field(2, 4, 30);
  Tensor z0 = ft::testing::leaf({2, 2}, 40), l0 = Tensor::zeros({2, 1}, DType::f64);
  ft::ode::Solution s = ft::ode::solve_adjoint(field, {z0, l0}, 0.0, 1.0, field.parameters(), dopri5(1e-6), dopri5(1e-6));
  BOOST_TEST(s.y[1].shape() == (Shape{2, 1}));
  add(sum(s.y[0]), sum(s.y[1])).backward(Tensor(), true);
  BOOST_TEST(z0.grad().defined());
  BOOST_TEST(field.w1.grad().defined());
  BOOST_TEST(!l0.grad().defined());
  BOOST_TEST(error_message([&] { grad({sum(s.y[0])}, {z0}, {}, true); }).find("ode_adjoint") != std::string::npos);
  // Nothing requires grad: plain values.
  NoGradGuard no_grad;
  ft::ode::Solution plain = ft::ode::solve_adjoint(field, {z0, l0}, 0.0, 1.0, field.parameters(), dopri5(1e-6), dopri5(1e-6));
  BOOST_TEST(!plain.y[0].requires_grad());
  BOOST_TEST(!plain.adjoint_stats);
}

BOOST_AUTO_TEST_CASE(the_adjoint_graph_does_not_grow_with_the_steps_and_its_gradients_carry_none) {
  MlpField field = random_mlp_field(2, 4, 50);
  Tensor z0 = ft::testing::leaf({2, 2}, 60), l0 = ft::testing::leaf({2, 1}, 61);
  std::vector<size_t> adjoint_sizes, backprop_sizes;
  for (double h : {0.1, 0.01}) {
    SolverOptions options = fixed_step(Method::rk4, h);
    adjoint_sizes.push_back(
        graph_size(ft::ode::solve_adjoint(field, {z0, l0}, 0.0, 1.0, field.parameters(), options, options).y[0]));
    backprop_sizes.push_back(graph_size(ft::ode::solve(field, {z0, l0}, 0.0, 1.0, options).y[0]));
  }
  BOOST_TEST_MESSAGE("graph nodes for 10 and 100 rk4 steps: adjoint " << adjoint_sizes[0] << ", " << adjoint_sizes[1]
                                                                       << "; backprop " << backprop_sizes[0] << ", "
                                                                       << backprop_sizes[1]);
  BOOST_TEST(adjoint_sizes[0] == adjoint_sizes[1]);
  BOOST_TEST(adjoint_sizes[0] <= 10u);  // views, the adjoint node, the six leaves' accumulators
  BOOST_TEST(backprop_sizes[1] > 5 * backprop_sizes[0]);
  ft::ode::Solution s = ft::ode::solve_adjoint(field, {z0, l0}, 0.0, 1.0, field.parameters(), dopri5(1e-6), dopri5(1e-6));
  for (const Tensor& g : grad({add(sum(s.y[0]), sum(s.y[1]))}, {z0, l0, field.w1, field.b2})) {
    BOOST_TEST(g.defined());
    BOOST_TEST(!g.requires_grad());
  }
}

BOOST_AUTO_TEST_CASE(evaluation_cap_names_the_cap_the_time_and_the_step) {
  SolverOptions options = dopri5(1e-12);
  options.max_evaluations = 20;
  const std::string message = error_message([&] { ft::ode::solve(riccati, {f64({1.0})}, 0.0, 5.0, options); });
  BOOST_TEST_MESSAGE(message);
  BOOST_TEST(message.find("max_evaluations = 20") != std::string::npos);
  BOOST_TEST(message.find("at t = ") != std::string::npos);
  BOOST_TEST(message.find("step size") != std::string::npos);
  options = fixed_step(Method::euler, 0.01);
  options.max_evaluations = 10;
  BOOST_TEST(error_message([&] { ft::ode::solve(riccati, {f64({1.0})}, 0.0, 1.0, options); }).find("max_evaluations = 10") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_inputs_fail_with_their_cause) {
  auto contains = [](const std::string& message, const std::string& part) {
    BOOST_TEST_INFO(message);
    BOOST_TEST(message.find(part) != std::string::npos);
  };
  Tensor y = f64({1.0, 2.0});
  contains(error_message([&] { ft::ode::solve(riccati, {}, 0.0, 1.0, dopri5(1e-6)); }), "empty initial state");
  contains(error_message([&] { ft::ode::parse_method("rk45"); }), "'rk45'; the choices are dopri5, rk4, euler");
  BOOST_TEST(std::string(ft::ode::method_name(ft::ode::parse_method("rk4"))) == "rk4");
  contains(error_message([&] { ft::ode::solve(riccati, {y}, 0.0, 1.0, fixed_step(Method::rk4, 0.0)); }),
           "rk4): step_size = 0; a fixed-step method needs step_size > 0");
  contains(error_message([&] { ft::ode::solve(riccati, {y}, 0.0, 1.0, fixed_step(Method::euler, -0.1)); }),
           "step_size = -0.1");
  auto wrong_shape = [](double, const State& s) { return State{s[0], Tensor::zeros({3}, DType::f64)}; };
  contains(error_message([&] { ft::ode::solve(wrong_shape, {y, y}, 0.0, 1.0, dopri5(1e-6)); }),
           "tensor 1 is f64 [3] but the state's is f64 [2]");
  auto too_few = [](double, const State& s) { return State{s[0]}; };
  contains(error_message([&] { ft::ode::solve(too_few, {y, y}, 0.0, 1.0, dopri5(1e-6)); }), "returned 1 tensors for a state of 2");
  contains(error_message([&] { ft::ode::solve(riccati, {f64({1.0, NAN})}, 0.0, 1.0, dopri5(1e-6)); }),
           "initial state tensor 0 ([2]) is not finite");
  // A solution that blows up at t = 1 (y' = y^2, y0 = 1): dopri5 shrinks its steps
  // until they underflow; a fixed step ends in a non-finite state.
  auto blow_up = [](double, const State& s) { return State{square(s[0])}; };
  SolverOptions options = dopri5(1e-6);
  options.max_evaluations = 1000000;
  contains(error_message([&] { ft::ode::solve(blow_up, {f64({1.0})}, 0.0, 2.0, options); }),
           "ode solver: step size underflow at t=");
  contains(error_message([&] { ft::ode::solve(blow_up, {f64({1.0})}, 0.0, 3.0, fixed_step(Method::euler, 0.1)); }),
           "not finite at t1 = 3");
  contains(error_message([&] { ft::ode::solve(riccati, {y}, 0.0, 1.0, dopri5(0.0)); }), "needs atol > 0");
  auto not_a_number = [](double, const State& s) { return State{mul(s[0], NAN)}; };
  contains(error_message([&] { ft::ode::solve(not_a_number, {y}, 0.0, 1.0, dopri5(1e-6)); }),
           "the vector field is not finite at t0 = 0");
  Tensor y32 = Tensor::ones({2}, DType::f32);
  y32.set_requires_grad(true);
  auto both = [](double, const State& s) { return State{s[0], s[1]}; };
  contains(error_message([&] { ft::ode::solve_adjoint(both, {y, y32}, 0.0, 1.0, {}, dopri5(1e-6), dopri5(1e-6)); }),
           "state tensor 1 is f32 on cpu but tensor 0 is f64 on cpu; the adjoint needs one dtype");
}

BOOST_AUTO_TEST_CASE(matches_torchdiffeq) {
  static const ft::testing::GoldenFile file("ode.h5", "golden_ode");
  auto read = [](const ft::testing::GoldenGroup& g, const std::string& name, const Shape& shape) {
    Tensor t = f64(g.doubles(name), shape);
    return t;
  };
  const int64_t n = 4, d = 2, hidden = 16;
  MlpField field{read(file, "w1", {hidden, d + 1}), read(file, "b1", {hidden}), read(file, "w2", {d, hidden}),
                 read(file, "b2", {d})};
  for (Tensor* p : {&field.w1, &field.b1, &field.w2, &field.b2}) p->set_requires_grad(true);
  Tensor z0 = read(file, "z0", {n, d}), l0 = read(file, "l0", {n, 1});

  for (const std::string name : {"dopri5", "dopri5_backward", "rk4", "euler"}) {
    ft::testing::GoldenGroup g = file.open_case(name);
    SolverOptions options;
    options.method = ft::ode::parse_method(g.attr_string("method"));
    options.atol = g.attr_double("atol");
    options.rtol = g.attr_double("rtol");
    options.step_size = g.attr_double("step_size");
    NoGradGuard no_grad;
    ft::ode::Solution s = ft::ode::solve(field, {z0, l0}, g.attr_double("t0"), g.attr_double("t1"), options);
    const double tolerance = options.method == Method::dopri5 ? 5 * options.rtol : 1e-10;
    const double ez = ft::testing::check_close(name + " z1", s.y[0], read(g, "z1", {n, d}), tolerance);
    const double el = ft::testing::check_close(name + " l1", s.y[1], read(g, "l1", {n, 1}), tolerance);
    const auto nfe = int64_t(g.doubles("nfe")[0]);
    BOOST_TEST_MESSAGE("torchdiffeq " << name << ": z1 error " << ez << ", l1 error " << el << "; evaluations "
                                      << s.stats.evaluations << " vs torchdiffeq's " << nfe);
    if (options.method == Method::dopri5)
      BOOST_TEST(std::abs(s.stats.evaluations - nfe) <= 12);  // two step attempts: torchdiffeq steps past t1
    else
      BOOST_TEST(s.stats.evaluations == nfe);
  }

  ft::testing::GoldenGroup g = file.open_case("adjoint");
  z0.set_requires_grad(true);
  l0.set_requires_grad(true);
  SolverOptions options = dopri5(1e-6);
  ft::ode::Solution s = ft::ode::solve_adjoint(field, {z0, l0}, 0.0, 1.0, field.parameters(), options, options);
  Tensor loss = add(sum(mul(s.y[0], read(g, "wz", {n, d}))), sum(mul(s.y[1], read(g, "wl", {n, 1}))));
  std::vector<Tensor> grads = grad({loss}, {z0, l0, field.w1, field.b1, field.w2, field.b2});
  const std::vector<std::string> names = {"grad_z0", "grad_l0", "grad_w1", "grad_b1", "grad_w2", "grad_b2"};
  std::vector<Tensor> like = {z0, l0, field.w1, field.b1, field.w2, field.b2};
  for (size_t i = 0; i < names.size(); ++i) {
    const double e = ft::testing::check_close("adjoint " + names[i], grads[i], read(g, names[i], like[i].shape()), 2e-5);
    BOOST_TEST_MESSAGE("torchdiffeq adjoint " << names[i] << ": error " << e);
  }
  const auto nfe_forward = int64_t(g.doubles("nfe_forward")[0]), nfe_backward = int64_t(g.doubles("nfe_backward")[0]);
  const int64_t forward = s.stats.evaluations, backward = s.adjoint_stats->evaluations;
  BOOST_TEST_MESSAGE("torchdiffeq adjoint: evaluations forward " << forward << " vs " << nfe_forward << ", backward "
                                                                 << backward << " vs " << nfe_backward);
  BOOST_TEST(std::abs(forward - nfe_forward) <= 12);
  BOOST_TEST(std::abs(backward - nfe_backward) <= 12);
}

BOOST_AUTO_TEST_SUITE_END()
