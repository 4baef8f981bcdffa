#include <boost/test/unit_test.hpp>

#include "framework/autograd/grad_mode.h"
#include "framework/ops/ops.h"

using namespace ft;

BOOST_AUTO_TEST_SUITE(autograd)

BOOST_AUTO_TEST_CASE(gradients_accumulate_over_uses_and_calls) {
  Tensor x = Tensor::from_vector<double>({1, 2, 3}, {3});
  x.set_requires_grad(true);
  Tensor y = sum(add(mul(x, x), x));  // dy/dx = 2x + 1
  y.backward();
  std::vector<double> expect{3, 5, 7};
  BOOST_TEST(x.grad().to_double_vector() == expect, boost::test_tools::per_element());
  sum(x).backward();  // accumulates
  std::vector<double> expect2{4, 6, 8};
  BOOST_TEST(x.grad().to_double_vector() == expect2, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(graph_is_freed_unless_retained) {
  Tensor x = Tensor::from_vector<double>({0.5, -1}, {2});
  x.set_requires_grad(true);
  Tensor y = sum(exp(x));
  y.backward(Tensor(), true);
  y.backward();  // retained once
  BOOST_CHECK_THROW(y.backward(), Error);
  BOOST_TEST(x.grad().to_double_vector()[0] == 2 * std::exp(0.5), boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(no_grad_records_nothing) {
  Tensor x = Tensor::ones({2});
  x.set_requires_grad(true);
  {
    NoGradGuard guard;
    Tensor y = mul(x, 3.0);
    BOOST_TEST(!y.requires_grad());
    BOOST_TEST(!y.grad_fn());
  }
  BOOST_TEST(grad_enabled());
  BOOST_TEST(mul(x, 3.0).requires_grad());
}

BOOST_AUTO_TEST_CASE(grad_ready_hooks_fire_once_with_the_complete_gradient) {
  Tensor w = Tensor::from_vector<double>({1, 2}, {2});
  w.set_requires_grad(true);
  Tensor b = Tensor::from_vector<double>({1}, {1});
  b.set_requires_grad(true);
  std::vector<std::string> order;
  std::vector<double> seen;
  w.register_grad_ready_hook([&](Tensor& g) {
    order.push_back("w");
    seen = g.to_double_vector();
  });
  b.register_grad_ready_hook([&](Tensor&) { order.push_back("b"); });
  // w is used twice (two paths into its accumulator); its hook must see both.
  Tensor h = add(mul(w, 2.0), b);
  Tensor loss = sum(add(mul(h, w), w));
  loss.backward();
  BOOST_TEST(order.size() == 2u);
  // d/dw [ (2w + b) w + w ] = 4w + b + 1
  std::vector<double> expect{6, 10};
  BOOST_TEST(seen == expect, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(deep_chains_do_not_recurse) {
  Tensor x = Tensor::from_vector<double>({0.1}, {1});
  x.set_requires_grad(true);
  Tensor y = x;
  for (int i = 0; i < 100000; ++i) y = add(y, 0.0);  // would overflow a recursive walk
  sum(y).backward();
  BOOST_TEST(x.grad().item() == 1.0);
}

BOOST_AUTO_TEST_CASE(backward_checks_its_inputs) {
  Tensor x = Tensor::ones({2});
  BOOST_CHECK_THROW(sum(x).backward(), Error);  // nothing requires grad
  x.set_requires_grad(true);
  BOOST_CHECK_THROW(mul(x, 2.0).backward(), Error);  // non-scalar without a gradient
  BOOST_CHECK_THROW(mul(x, 2.0).set_requires_grad(false), Error);
}

BOOST_AUTO_TEST_SUITE_END()
