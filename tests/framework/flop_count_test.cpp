// The FLOP counter behind bench's MFU: matmul 2mnk (transposed or batched), linear,
// conv2d and its backward, causal attention (the causal half), nesting, and nothing
// counted outside a counter or for memory-bound kernels.
#include <boost/test/unit_test.hpp>

#include "framework/kernels/flop_count.h"
#include "framework/kernels/kernels.h"

using namespace ft;

BOOST_AUTO_TEST_SUITE(flop_count)

BOOST_AUTO_TEST_CASE(products_count_two_flops_per_multiply_add) {
  kernels::FlopCounter outer;
  {
    kernels::FlopCounter inner;
    kernels::matmul(Tensor::ones({3, 4, 5}), Tensor::ones({5, 6}));  // 3 x (4 x 6) x 5
    BOOST_TEST(inner.flops() == 2.0 * 3 * 4 * 6 * 5);
  }
  kernels::matmul(Tensor::ones({5, 4}), Tensor::ones({5, 6}), true, false);  // (4 x 6) x 5
  kernels::linear(Tensor::ones({2, 7, 5}), Tensor::ones({3, 5}), Tensor());  // 14 rows x 3 x 5
  kernels::add(Tensor::ones({100}), Tensor::ones({100}));                    // memory-bound: not counted
  BOOST_TEST(outer.flops() == 2.0 * 3 * 4 * 6 * 5 + 2.0 * 4 * 6 * 5 + 2.0 * 14 * 3 * 5);
}

BOOST_AUTO_TEST_CASE(convolutions_and_attention) {
  kernels::FlopCounter counter;
  Tensor x = Tensor::ones({2, 3, 8, 8}), w = Tensor::ones({4, 3, 3, 3});
  Tensor y = kernels::conv2d(x, w, 1);  // [2, 4, 8, 8], 27 multiply-adds each
  const double forward = 2.0 * 2 * 4 * 8 * 8 * 27;
  BOOST_TEST(counter.flops() == forward);
  Tensor grad_x, grad_w;
  kernels::conv2d_backward(x, w, y, 1, &grad_x, &grad_w);
  BOOST_TEST(counter.flops() == 3.0 * forward);
  kernels::FlopCounter attention;
  Tensor q = Tensor::ones({1, 2, 4, 8}), logsumexp;
  kernels::causal_attention(q, q, q, 0.5, &logsumexp);
  BOOST_TEST(attention.flops() == 2.0 * 2 * (4 * 5 / 2) * 8 * 2);  // 10 causal pairs per head, two products
}

BOOST_AUTO_TEST_CASE(nothing_is_counted_without_a_counter) {
  kernels::matmul(Tensor::ones({4, 4}), Tensor::ones({4, 4}));
  kernels::FlopCounter counter;
  BOOST_TEST(counter.flops() == 0.0);
}

BOOST_AUTO_TEST_SUITE_END()
