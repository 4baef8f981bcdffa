#include <boost/test/unit_test.hpp>

#include "framework/autograd/grad_mode.h"
#include "framework/ops/ops.h"
#include "framework/precision/autocast.h"
#include "framework/random/generator.h"
#include "tests/support/tensor_compare.h"

using namespace ft;

BOOST_AUTO_TEST_SUITE(autocast)

// Under autocast a linear layer computes with bf16/f16-rounded inputs and f32
// accumulation; gradients reach the f32 parameters in f32.
BOOST_AUTO_TEST_CASE(linear_rounds_inputs_and_keeps_f32_gradients) {
  for (DType low : {DType::bf16, DType::f16}) {
    Generator gen(1, 0);
    Tensor x = normal({4, 8}, 0, 1, gen), w = normal({3, 8}, 0, 1, gen), b = normal({3}, 0, 1, gen);
    w.set_requires_grad(true);
    Tensor y;
    {
      AutocastGuard guard(low);
      BOOST_TEST(autocast_dtype() == low);
      y = linear(x, w, b);
    }
    BOOST_TEST(autocast_dtype() == DType::f32);
    BOOST_TEST(y.dtype() == DType::f32);
    Tensor expected = linear(x.to(low).to(DType::f32), w.detach().to(low).to(DType::f32), b);
    BOOST_TEST(y.to_double_vector() == expected.to_double_vector(), boost::test_tools::per_element());
    Tensor full = linear(x, w.detach(), b);
    BOOST_TEST(y.to_double_vector() != full.to_double_vector());  // rounding really happened
    sum(y).backward();
    BOOST_TEST(w.grad().dtype() == DType::f32);
    // d sum(y) / dW[o, i] = sum_n x_low[n, i]
    std::vector<double> g = w.grad().to_double_vector();
    std::vector<double> col = sum(x.to(low).to(DType::f32), {0}).to_double_vector();
    for (int o = 0; o < 3; ++o)
      for (int i = 0; i < 8; ++i) BOOST_TEST(g[size_t(o * 8 + i)] == col[size_t(i)], boost::test_tools::tolerance(1e-6));
  }
}

BOOST_AUTO_TEST_CASE(attention_and_conv_accept_low_precision) {
  Generator gen(2, 0);
  Tensor q = normal({1, 2, 5, 4}, 0, 1, gen);
  Tensor x = normal({1, 2, 4, 4}, 0, 1, gen), k = normal({3, 2, 3, 3}, 0, 1, gen);
  AutocastGuard guard(DType::bf16);
  Tensor a = causal_attention(q, q, q);
  Tensor c = conv2d(x, k, Tensor(), 1);
  BOOST_TEST(a.dtype() == DType::bf16);  // attention returns its inputs' dtype, as cuDNN's
  BOOST_TEST(c.dtype() == DType::f32);
  // Against f64 attention on the bf16-rounded inputs: within bf16's rounding of the
  // probabilities and the output.
  Tensor qr = q.to(DType::bf16).to(DType::f64);
  AutocastGuard off(DType::f32);
  Tensor reference = causal_attention(qr, qr, qr);
  BOOST_TEST(ft::testing::max_abs_difference(a.to(DType::f64), reference) <=
             1e-2 * ft::testing::max_abs(reference));
}

// Without a graph, a parameter is cast once per outermost guard (sampling calls every
// layer once per token); with a graph, or for other tensors, every call casts anew.
BOOST_AUTO_TEST_CASE(parameters_are_cast_once_per_no_grad_scope) {
  Generator gen(3, 0);
  Tensor w = normal({3, 8}, 0, 1, gen), activation = normal({3, 8}, 0, 1, gen);
  w.set_requires_grad(true);
  {
    NoGradGuard no_grad;
    AutocastGuard guard(DType::bf16);
    Tensor first = autocast_input(w);
    BOOST_TEST(first.dtype() == DType::bf16);
    {
      AutocastGuard inner(DType::bf16);
      BOOST_TEST(autocast_input(w).same(first));  // an inner guard keeps the outer scope's casts
    }
    BOOST_TEST(autocast_input(w).same(first));
    BOOST_TEST(!autocast_input(activation).same(autocast_input(activation)));
    AutocastGuard half(DType::f16);
    BOOST_TEST(autocast_input(w).dtype() == DType::f16);  // one cast per target dtype
  }
  {
    NoGradGuard no_grad;
    AutocastGuard guard(DType::bf16);
    Tensor before = autocast_input(w);
    BOOST_TEST(before.to_double_vector() == w.detach().to(DType::bf16).to_double_vector(),
               boost::test_tools::per_element());
  }
  // A new scope sees the parameter's new values.
  w.detach().fill_(0.5);
  {
    NoGradGuard no_grad;
    AutocastGuard guard(DType::bf16);
    for (double v : autocast_input(w).to_double_vector()) BOOST_TEST(v == 0.5);
  }
  AutocastGuard with_graph(DType::bf16);
  BOOST_TEST(!autocast_input(w).same(autocast_input(w)));
}

BOOST_AUTO_TEST_SUITE_END()
