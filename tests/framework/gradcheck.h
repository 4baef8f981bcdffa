// Finite-difference gradient checking in f64. The loss is sum(f(inputs) * R) for
// a fixed random R, so every output element's gradient is exercised.
#pragma once
#include <boost/test/unit_test.hpp>
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "framework/autograd/grad.h"
#include "framework/autograd/grad_mode.h"
#include "framework/ops/ops.h"
#include "framework/random/generator.h"
#include "tests/support/tensor_compare.h"

namespace ft::testing {

using Function = std::function<Tensor(const std::vector<Tensor>&)>;

// Leaves in f64 with values in [low, high], requiring grad.
inline Tensor leaf(const Shape& shape, uint64_t stream, double low = -1.0, double high = 1.0) {
  Generator gen(1234, stream);
  Tensor t = uniform(shape, low, high, gen, DType::f64);
  t.set_requires_grad(true);
  return t;
}

// d loss / d x by central differences, perturbing x's elements in place.
inline std::vector<double> central_differences(const Tensor& x, const std::function<double()>& loss, double eps) {
  double* values = x.data<double>();
  std::vector<double> numeric(size_t(x.numel()), 0.0);
  for (int64_t j = 0; j < x.numel(); ++j) {
    double saved = values[j];
    values[j] = saved + eps;
    double up = loss();
    values[j] = saved - eps;
    double down = loss();
    values[j] = saved;
    numeric[size_t(j)] = (up - down) / (2 * eps);
  }
  return numeric;
}

// Analytic against central-difference gradients, per input, in the tests' one
// metric (tests/support/tensor_compare.h): max |analytic - numeric| / max |numeric|
// <= tolerance. In f64 with eps = 1e-6 the numeric gradient itself is good to about
// 1e-9 of its scale (rounding ~1e-16 |loss| / eps; truncation ~eps^2).
inline void check_gradients(const std::string& name, const Function& fn, std::vector<Tensor> inputs,
                            double eps = 1e-6, double tolerance = 1e-6) {
  BOOST_TEST_CONTEXT("op " << name) {
    Tensor y = fn(inputs);
    Generator gen(99, 7);
    Tensor weights = uniform(y.shape(), -1.0, 1.0, gen, DType::f64);
    auto loss_of = [&](const std::vector<Tensor>& xs) { return sum(mul(fn(xs), weights)); };
    for (Tensor& x : inputs) x.set_grad(Tensor());
    loss_of(inputs).backward();
    NoGradGuard no_grad;
    double worst = 0.0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!inputs[i].requires_grad()) continue;
      Tensor analytic = inputs[i].grad();
      BOOST_REQUIRE_MESSAGE(analytic.defined(), name << ": no gradient for input " << i);
      std::vector<double> numeric = central_differences(inputs[i], [&] { return loss_of(inputs).item(); }, eps);
      const std::vector<double> a = analytic.to_double_vector();
      worst = std::max(worst, check_close(name + ": input " + std::to_string(i) + " analytic vs numeric", a, numeric,
                                          tolerance));
    }
    BOOST_TEST_MESSAGE(name << ": gradient error " << worst << " x scale");
  }
}

// Second-order check (PyTorch's gradgradcheck) in f64. The first gradients
// F(x, w) = d sum(f(x) * w) / dx, built with create_graph, are differentiated again:
// d sum_i <F_i, R_i> / d(x, w) against central differences of F computed by
// first-order backward. So it checks the graph of the gradient, and that it agrees
// with the first-order gradient, for every input and for the output weights w.
inline void check_second_gradients(const std::string& name, const Function& fn, std::vector<Tensor> inputs,
                                   double eps = 1e-6, double tolerance = 1e-6) {
  BOOST_TEST_CONTEXT("op " << name) {
    Generator gen(77, 3);
    Tensor weights = uniform(fn(inputs).shape(), -1.0, 1.0, gen, DType::f64);
    weights.set_requires_grad(true);
    std::vector<Tensor> directions;
    for (const Tensor& x : inputs) directions.push_back(uniform(x.shape(), -1.0, 1.0, gen, DType::f64));
    auto second_loss = [&](bool create_graph) {
      std::vector<Tensor> first = grad({sum(mul(fn(inputs), weights))}, inputs, {}, create_graph);
      Tensor total = Tensor::zeros({}, DType::f64);
      for (size_t i = 0; i < first.size(); ++i)
        if (first[i].defined()) total = add(total, sum(mul(first[i], directions[i])));
      return total;
    };
    std::vector<Tensor> variables = inputs;
    variables.push_back(weights);
    Tensor loss = second_loss(true);
    BOOST_REQUIRE_MESSAGE(loss.requires_grad(), name << ": the first gradients carry no graph");
    std::vector<Tensor> analytic = grad({loss}, variables);
    double worst = 0.0;
    for (size_t i = 0; i < variables.size(); ++i) {
      std::vector<double> numeric = central_differences(variables[i], [&] { return second_loss(false).item(); }, eps);
      std::vector<double> a = analytic[i].defined() ? analytic[i].to_double_vector()
                                                    : std::vector<double>(numeric.size(), 0.0);
      worst = std::max(worst, check_close(name + ": variable " + std::to_string(i) + " second-order vs numeric", a,
                                          numeric, tolerance));
    }
    BOOST_TEST_MESSAGE(name << ": second-order gradient error " << worst << " x scale");
  }
}

}  // namespace ft::testing
