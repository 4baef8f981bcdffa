// i-ResNet and Residual Flows (layers/flows/residual_*.h, framework/nn/spectral_norm.h):
// spectral normalisation against the dense operator's largest singular value; the
// log-determinant estimators against the brute-force Jacobian in f64 (exact value and
// gradient with a complete set of probes, unbiasedness of the random ones within 3
// standard errors, convergence of the truncated series); the roulette's weights;
// exact inversion and its failure naming the block.
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "framework/autograd/grad.h"
#include "framework/autograd/grad_mode.h"
#include "framework/ops/ops.h"
#include "layers/flows/residual_block.h"
#include "layers/flows/residual_flow.h"
#include "tests/layers/flow_testing.h"
#include "tests/support/error_message.h"

using namespace ft;
using namespace ft::layers::flows;

namespace {

// Residual block over vectors of d features (one hidden layer: two spectrally
// normalised layers), in f64, with perturbed weights whose spectral norms are then
// converged, so each layer's norm is `coefficient`.
std::shared_ptr<ResidualBlock> vector_block(int64_t d, double coefficient, ResidualBlockOptions options,
                                            uint64_t seed = 3) {
  Generator gen(seed);
  nn::SpectralNormOptions spectral;
  spectral.coefficient = coefficient;
  auto block = std::make_shared<ResidualBlock>(LipschitzNetwork::mlp({d, 16, d}, spectral, gen), options, "test block");
  block->to_dtype(DType::f64);
  testing::perturb_parameters(*block, seed + 10, 0.8);
  for (auto& layer : block->find_modules<nn::SpectralNormLayer>()) layer->update_vectors(500);
  block->set_training(false);
  return block;
}

// Inputs of scale 3, where LipSwish's slope is far from its 0.45 at the origin and
// the Jacobian is not small.
Tensor random_rows(int64_t n, int64_t d, uint64_t seed) {
  Generator gen(seed);
  return normal({n, d}, 0.0, 3.0, gen, DType::f64);
}

double brute_force_logdet(ResidualBlock& transform, const Tensor& x) {
  return testing::central_difference_logdet([&](const Tensor& xe) { return transform.forward(xe, Tensor()).y; }, x);
}

// g(x) with x in its graph, for the estimator functions.
std::pair<Tensor, Tensor> g_of(ResidualBlock& block, const Tensor& x0) {
  Tensor x = x0.detach().clone();
  x.set_requires_grad(true);
  return {block.net().forward(x), x};
}

// The d rows of x0 (one example) with probes e_0 .. e_{d-1}: summed over the rows, a
// Hutchinson estimate is the exact trace.
std::pair<Tensor, Tensor> basis_probes(const Tensor& x0) {
  int64_t d = x0.size(1);
  Tensor rows = x0.expand({d, d}).contiguous(), probes = Tensor::zeros({d, d}, DType::f64);
  for (int64_t i = 0; i < d; ++i) probes.slice(0, i, i + 1).slice(1, i, i + 1).fill_(1.0);
  return {rows, probes};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(residual_flows)

BOOST_AUTO_TEST_CASE(spectral_norm_finds_the_largest_singular_value_and_caps_it) {
  Generator gen(5);
  nn::SpectralNormOptions o;
  o.coefficient = 0.9;
  nn::SpectralNormLinear linear(4, 3, o, gen);
  linear.to_dtype(DType::f64);
  {
    NoGradGuard no_grad;
    linear.weight.copy_(mul(linear.weight, 10.0));
  }
  // The first forward converges the random starting vectors (initial_iterations).
  BOOST_TEST(linear.initialized.item() == 0.0);
  linear.set_training(false);
  linear.normalized_weight();
  BOOST_TEST(linear.initialized.item() == 1.0);
  linear.update_vectors(300);
  // Dense reference: the largest eigenvalue of W^T W by many power iterations.
  Tensor w = linear.weight.detach(), wtw = matmul(w.transpose(0, 1), w), v = Tensor::ones({4, 1}, DType::f64);
  for (int i = 0; i < 2000; ++i) v = mul(matmul(wtw, v), 1.0 / std::sqrt(sum(square(matmul(wtw, v))).item()));
  double sigma = std::sqrt(sum(mul(v, matmul(wtw, v))).item());
  BOOST_TEST(std::abs(linear.sigma() - sigma) < 1e-10 * sigma);
  Tensor normalized = linear.normalized_weight();
  BOOST_TEST(testing::max_abs_difference(normalized, mul(w, 0.9 / sigma)) < 1e-12);
  // A weight already below the coefficient is left as it is.
  {
    NoGradGuard no_grad;
    linear.weight.copy_(mul(w, 0.5 / sigma));
  }
  linear.update_vectors(500);
  BOOST_TEST(testing::max_abs_difference(linear.normalized_weight(), linear.weight) < 1e-15);
}

BOOST_AUTO_TEST_CASE(spectral_norm_of_a_convolution_is_that_of_its_dense_operator) {
  Generator gen(6);
  nn::SpectralNormOptions o;
  o.initial_iterations = 1000;
  nn::SpectralNormConv2d conv(2, 3, 3, 4, 5, o, gen);
  conv.to_dtype(DType::f64);
  conv.update_vectors(1000);
  // The operator as a dense [3*4*5, 2*4*5] matrix, column by column from the convolution.
  int64_t inputs = 2 * 4 * 5, outputs = 3 * 4 * 5;
  Tensor dense = Tensor::zeros({outputs, inputs}, DType::f64);
  for (int64_t j = 0; j < inputs; ++j) {
    Tensor e = Tensor::zeros({1, inputs}, DType::f64);
    e.slice(1, j, j + 1).fill_(1.0);
    Tensor column = conv2d(e.reshape({1, 2, 4, 5}), conv.weight.detach(), Tensor(), 1);
    dense.slice(1, j, j + 1).copy_(column.reshape({outputs, 1}));
  }
  Tensor ata = matmul(dense.transpose(0, 1), dense), v = Tensor::ones({inputs, 1}, DType::f64);
  for (int i = 0; i < 3000; ++i) v = mul(matmul(ata, v), 1.0 / std::sqrt(sum(square(matmul(ata, v))).item()));
  double sigma = std::sqrt(sum(mul(v, matmul(ata, v))).item());
  BOOST_TEST_MESSAGE("conv sigma " << conv.sigma() << " dense " << sigma);
  BOOST_TEST(std::abs(conv.sigma() - sigma) < 1e-8 * sigma);
}

BOOST_AUTO_TEST_CASE(exact_logdet_is_the_brute_force_one) {
  ResidualBlockOptions o;
  o.estimator = LogdetEstimator::exact;
  auto block = vector_block(3, 0.97, o);
  Tensor x = random_rows(4, 3, 11);
  Tensor logdet = block->forward(x, Tensor()).logabsdet;
  for (int64_t e = 0; e < 4; ++e)
    BOOST_TEST(std::abs(logdet.to_double_vector()[size_t(e)] - brute_force_logdet(*block, x.slice(0, e, e + 1))) < 1e-8);
}

BOOST_AUTO_TEST_CASE(series_with_complete_probes_gives_the_exact_value_and_gradient) {
  auto block = vector_block(3, 0.9, ResidualBlockOptions{});
  block->set_training(true);
  auto [rows, probes] = basis_probes(random_rows(1, 3, 12));
  auto [g, x] = g_of(*block, rows);
  Tensor weights = Tensor::ones({3, 200}, DType::f64);
  Tensor exact = exact_residual_logdet(g, x, true);  // the same row three times
  std::vector<Tensor> params = block->parameters();
  std::vector<Tensor> exact_grads = grad({mul(sum(exact), 1.0 / 3.0)}, params, {}, false, true);
  for (bool neumann : {false, true}) {
    BOOST_TEST_CONTEXT((neumann ? "neumann" : "power series")) {
      Tensor estimate = neumann ? neumann_logdet(g, x, probes, weights) : power_series_logdet(g, x, probes, weights, true);
      BOOST_TEST(std::abs(sum(estimate).item() - exact.to_double_vector()[0]) < 1e-10);
      std::vector<Tensor> grads = grad({sum(estimate)}, params, {}, false, true);
      // The last layer's bias moves no derivative: no gradient either way.
      for (size_t i = 0; i < params.size(); ++i) {
        BOOST_TEST(grads[i].defined() == exact_grads[i].defined());
        if (grads[i].defined())
          BOOST_TEST(testing::max_abs_difference(grads[i], exact_grads[i]) < 1e-9 * (1.0 + testing::max_abs(exact_grads[i])));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(truncated_series_converges_to_the_logdet) {
  auto block = vector_block(3, 0.9, ResidualBlockOptions{});
  auto [rows, probes] = basis_probes(random_rows(1, 3, 13));
  auto [g, x] = g_of(*block, rows);
  double exact = exact_residual_logdet(g, x, false).to_double_vector()[0];
  double previous = 1e9;
  for (int64_t terms : {1, 2, 4, 8, 16, 32, 64}) {
    Tensor weights = Tensor::ones({3, terms}, DType::f64);
    double error = std::abs(sum(power_series_logdet(g, x, probes, weights, false)).item() - exact);
    BOOST_TEST_MESSAGE("terms " << terms << ": |error| " << error);
    // The tail after K terms is at most d sum_{k > K} L^k / k <= d L^(K+1) / ((K+1)(1-L)).
    BOOST_TEST(error <= 3.0 * std::pow(0.9, double(terms + 1)) / (double(terms + 1) * 0.1) + 1e-12);
    BOOST_TEST(error <= previous * 1.0001 + 1e-12);
    previous = error;
  }
  BOOST_TEST(previous < 1e-4);
}

BOOST_AUTO_TEST_CASE(random_estimators_are_unbiased_within_three_standard_errors) {
  struct Case {
    const char* name;
    LogdetEstimator estimator;
    TraceProbe probe;
    SeriesLength length;
    bool training;
  };
  for (const Case& c : {Case{"roulette geometric gaussian", LogdetEstimator::roulette, TraceProbe::gaussian,
                             SeriesLength::geometric, true},
                        Case{"roulette poisson rademacher", LogdetEstimator::roulette, TraceProbe::rademacher,
                             SeriesLength::poisson, true},
                        Case{"roulette at eval", LogdetEstimator::roulette, TraceProbe::gaussian,
                             SeriesLength::geometric, false}}) {
    BOOST_TEST_CONTEXT(c.name) {
      ResidualBlockOptions o;
      o.estimator = c.estimator;
      o.probe = c.probe;
      o.roulette.distribution = c.length;
      o.roulette.exact_terms = 1;
      o.eval_exact_terms = 3;
      auto block = vector_block(3, 0.9, o, 21);
      block->set_training(c.training);
      Tensor x0 = random_rows(1, 3, 14);
      double exact = brute_force_logdet(*block, x0);
      const int64_t n = 20000;
      std::vector<double> estimates;
      {
        NoGradGuard no_grad;
        estimates = block->forward(x0.expand({n, 3}).contiguous(), Tensor()).logabsdet.to_double_vector();
      }
      double mean = 0.0, square_sum = 0.0;
      for (double e : estimates) mean += e / double(n);
      for (double e : estimates) square_sum += (e - mean) * (e - mean);
      double standard_error = std::sqrt(square_sum / double(n - 1) / double(n));
      BOOST_TEST_MESSAGE(c.name << ": mean " << mean << " exact " << exact << " standard error " << standard_error);
      BOOST_TEST(std::abs(mean - exact) < 3.0 * standard_error);
      BOOST_TEST(standard_error > 0.0);
    }
  }
}

BOOST_AUTO_TEST_CASE(roulette_weights_keep_every_term_in_expectation) {
  for (SeriesLength length : {SeriesLength::geometric, SeriesLength::poisson}) {
    RouletteOptions o;
    o.distribution = length;
    o.exact_terms = 2;
    // Lengths at evenly spread uniforms: the weights' means are 1 for every term.
    std::vector<int64_t> lengths;
    const int n = 200000;
    for (int i = 0; i < n; ++i) lengths.push_back(roulette_length(o, (i + 0.5) / n));
    Tensor w = roulette_weights(o, lengths, DType::f64, Device::cpu());
    Tensor means = mean(w, {0});
    for (int64_t k = 0; k < 7; ++k) BOOST_TEST(std::abs(means.to_double_vector()[size_t(k)] - 1.0) < 2e-3);
    BOOST_TEST(roulette_survival(o, 1) == 1.0);
    BOOST_TEST(roulette_survival(o, 2) == 1.0);
  }
  RouletteOptions geometric;
  geometric.exact_terms = 0;
  BOOST_TEST(roulette_survival(geometric, 3) == 0.25);
}

BOOST_AUTO_TEST_CASE(inverse_is_exact_to_its_tolerance_and_names_a_block_that_fails) {
  ResidualBlockOptions o;
  o.inverse_tolerance = 1e-12;
  auto block = vector_block(3, 0.97, o);
  Tensor x = random_rows(5, 3, 15);
  TransformResult forward, inverse;
  {
    NoGradGuard no_grad;
    forward = block->forward(x, Tensor());
    inverse = block->inverse(forward.y, Tensor());
  }
  BOOST_TEST(testing::max_abs_difference(inverse.y, x) < 1e-10);

  ResidualBlockOptions few = o;
  few.inverse_iterations = 2;
  auto failing = vector_block(3, 0.97, few);
  std::string message = testing::error_message([&] { failing->inverse(forward.y, Tensor()); });
  BOOST_TEST(message.find("test block: the inverse did not converge: after 2 fixed-point iterations") !=
             std::string::npos, message);
  Tensor needs_grad = forward.y.clone();
  needs_grad.set_requires_grad(true);
  message = testing::error_message([&] { block->inverse(needs_grad, Tensor()); });
  BOOST_TEST(message.find("carries no gradient") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(image_architecture_inverts_and_its_logdet_is_the_brute_force_one) {
  ResidualFlowConfig c;
  c.channels = 1;
  c.image_size = 4;
  c.scales = 2;
  c.blocks = 1;
  c.hidden = 4;
  c.block.estimator = LogdetEstimator::exact;
  c.block.inverse_tolerance = 1e-12;
  Generator gen(8);
  auto flow = residual_flow_transform(c, gen);
  flow->to_dtype(DType::f64);
  testing::perturb_parameters(*flow, 9, 0.3);
  for (auto& layer : flow->find_modules<nn::SpectralNormLayer>()) layer->update_vectors(500);
  flow->set_training(false);
  Generator data(10);
  Tensor x = normal({2, 1, 4, 4}, 0.0, 1.0, data, DType::f64);
  TransformResult forward, inverse;
  {
    NoGradGuard no_grad;
    forward = flow->forward(x, Tensor());
    inverse = flow->inverse(forward.y, Tensor());
  }
  BOOST_TEST(forward.y.shape() == (Shape{2, 4, 2, 2}));
  BOOST_TEST(testing::max_abs_difference(inverse.y, x) < 1e-9);
  BOOST_TEST(testing::max_abs_difference(inverse.logabsdet, neg(forward.logabsdet)) < 1e-9);
  for (int64_t e = 0; e < 2; ++e) {
    Tensor jac = testing::jacobian([&](const Tensor& xe) { return flow->forward(xe, Tensor()).y; }, x.slice(0, e, e + 1));
    BOOST_TEST(std::abs(logabsdet(jac).item() - forward.logabsdet.to_double_vector()[size_t(e)]) < 1e-9);
  }
}

BOOST_AUTO_TEST_SUITE_END()
