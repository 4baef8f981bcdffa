// DDNF (layers/flows/ddnf.h): the Taylor log-determinant with Hutchinson probes is an
// unbiased estimate of the discrete flow map's (brute-force Jacobian by central
// differences, f64, mean within 3 standard errors); the negated field inverts to
// O(1/T); the regularisers are what they say; an unstable step count is refused.
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "framework/autograd/grad_mode.h"
#include "framework/ops/ops.h"
#include "layers/flows/ddnf.h"
#include "tests/layers/flow_testing.h"
#include "tests/support/error_message.h"

using namespace ft;
using namespace ft::layers::flows;

namespace {

std::shared_ptr<DiffeomorphicFlow> make_ddnf(int64_t steps, int64_t terms, double coefficient = 1.2,
                                             bool exact_logdet = false) {
  Generator gen(4);
  nn::SpectralNormOptions spectral;
  spectral.coefficient = coefficient;
  DiffeomorphicOptions o;
  o.steps = steps;
  o.terms = terms;
  o.exact_logdet = exact_logdet;
  o.geodesic_weight = 0.5;
  o.consistency_weight = 2.0;
  auto flow = std::make_shared<DiffeomorphicFlow>(LipschitzNetwork::mlp({3, 16, 3}, spectral, gen), o, "test ddnf");
  flow->to_dtype(DType::f64);
  testing::perturb_parameters(*flow, 5, 0.8);
  for (auto& layer : flow->find_modules<nn::SpectralNormLayer>()) layer->update_vectors(500);
  flow->set_training(false);
  return flow;
}

Tensor inputs(int64_t n) {
  Generator gen(6);
  return normal({n, 3}, 0.0, 2.0, gen, DType::f64);
}

double brute_force_logdet(DiffeomorphicFlow& transform, const Tensor& x) {
  return testing::central_difference_logdet([&](const Tensor& xe) { return transform.forward(xe, Tensor()).y; }, x);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ddnf)

BOOST_AUTO_TEST_CASE(taylor_logdet_is_unbiased_for_the_discrete_map) {
  auto flow = make_ddnf(4, 12);
  Tensor x0 = inputs(1);
  double exact = brute_force_logdet(*flow, x0);
  const int64_t n = 20000;
  std::vector<double> estimates;
  {
    NoGradGuard no_grad;
    estimates = flow->forward(x0.expand({n, 3}).contiguous(), Tensor()).logabsdet.to_double_vector();
  }
  double mean = 0.0, squares = 0.0;
  for (double e : estimates) mean += e / double(n);
  for (double e : estimates) squares += (e - mean) * (e - mean);
  double standard_error = std::sqrt(squares / double(n - 1) / double(n));
  BOOST_TEST_MESSAGE("ddnf: mean " << mean << " exact " << exact << " standard error " << standard_error);
  BOOST_TEST(std::abs(mean - exact) < 3.0 * standard_error);
  BOOST_TEST(std::abs(exact) > 0.05);  // a map that does something
}

BOOST_AUTO_TEST_CASE(exact_logdet_is_the_discrete_maps) {
  auto flow = make_ddnf(4, 1, 1.2, true);
  Tensor x = inputs(3);
  Tensor logdet;
  {
    NoGradGuard no_grad;
    logdet = flow->forward(x, Tensor()).logabsdet;
  }
  for (int64_t e = 0; e < 3; ++e)
    BOOST_TEST(std::abs(logdet.to_double_vector()[size_t(e)] - brute_force_logdet(*flow, x.slice(0, e, e + 1))) < 1e-8);
}

BOOST_AUTO_TEST_CASE(negated_field_inverts_to_first_order_in_the_step) {
  Tensor x = inputs(8);
  double previous = 0.0;
  for (int64_t steps : {4, 8, 16, 32}) {
    auto flow = make_ddnf(steps, 4);
    NoGradGuard no_grad;
    TransformResult forward = flow->forward(x, Tensor());
    double error = testing::max_abs_difference(flow->inverse(forward.y, Tensor()).y, x);
    BOOST_TEST_MESSAGE("T = " << steps << ": max |inverse(forward(x)) - x| " << error);
    if (previous > 0.0) BOOST_TEST(error < 0.7 * previous);  // ~halves as T doubles
    BOOST_TEST(error < 0.5 / double(steps));
    previous = error;
  }
}

BOOST_AUTO_TEST_CASE(regularisers_are_the_path_energy_and_the_round_trip_error) {
  auto flow = make_ddnf(1, 4, 0.9);
  flow->set_training(true);
  Tensor x = inputs(5);
  TransformResult forward = flow->forward(x, Tensor());
  NoGradGuard no_grad;
  flow->set_training(false);
  // One step: y = x + v(x), energy |v(x)|^2, round trip y - v(y).
  Tensor v = flow->velocity().forward(x);
  BOOST_TEST(testing::max_abs_difference(forward.y, add(x, v)) < 1e-14);
  BOOST_TEST(testing::max_abs_difference(flow->geodesic_energy(), sum(square(v), {1})) < 1e-13);
  Tensor back = sub(forward.y, flow->velocity().forward(forward.y));
  BOOST_TEST(testing::max_abs_difference(flow->inverse_consistency(), sum(square(sub(back, x)), {1})) < 1e-13);
  Tensor expected = add(mul(sum(square(v), {1}), 0.5), mul(sum(square(sub(back, x)), {1}), 2.0));
  BOOST_TEST(testing::max_abs_difference(flow->take_regularisation(), expected) < 1e-13);
  BOOST_TEST(!flow->take_regularisation().defined());  // taken once
}

BOOST_AUTO_TEST_CASE(refuses_steps_too_few_for_its_field) {
  std::string message = testing::error_message([] { make_ddnf(1, 4, 1.5); });
  BOOST_TEST(message.find("test ddnf: the velocity field's Lipschitz bound can reach 2.25") != std::string::npos, message);
}

BOOST_AUTO_TEST_SUITE_END()
