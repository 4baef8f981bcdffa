// Activation recomputation (framework/autograd/recompute.h): gradients of inputs and
// parameters through a recomputed segment equal those of the plain graph (bit for bit
// where no term from outside the segment joins them),
// the second run happens under the first one's autocast dtype, a segment's
// activations are not alive between forward and backward, and what it cannot do
// (double backward, mixed output dtypes) is an error naming it.
#include <boost/test/unit_test.hpp>

#include <string>

#include "framework/autograd/grad.h"
#include "framework/autograd/recompute.h"
#include "framework/core/allocator.h"
#include "framework/ops/ops.h"
#include "framework/precision/autocast.h"
#include "framework/random/generator.h"
#include "tests/support/error_message.h"
#include "tests/support/tensor_compare.h"

using namespace ft;

namespace {

Tensor leaf(const Shape& shape, uint64_t stream) {
  Generator gen(7, stream);
  Tensor t = normal(shape, 0.0, 0.5, gen);
  t.set_requires_grad(true);
  return t;
}

// A small residual MLP step with two outputs (y and a per-row "log-determinant").
std::vector<Tensor> layer(const std::vector<Tensor>& in, const Tensor& w, const Tensor& b) {
  Tensor h = tanh(linear(in[0], w, b));
  Tensor y = add(in[0], mul(h, in[1]));
  return {y, sum(mul(h, h), {1})};
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.defined() && b.defined() && a.to_double_vector() == b.to_double_vector();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(recompute)

BOOST_AUTO_TEST_CASE(gradients_equal_the_plain_graph_bit_for_bit) {
  Tensor x = leaf({6, 8}, 1), scale = leaf({6, 8}, 2), w = leaf({8, 8}, 3), b = leaf({8}, 4);
  int runs = 0;
  auto segment = [&](const std::vector<Tensor>& in) {
    ++runs;
    return layer(in, w, b);
  };
  // Two chained segments, and x also used outside them: gradients meet at x.
  auto loss_of = [&](bool recompute) {
    std::vector<Tensor> first = recompute ? recomputed(segment, {x, scale}, {w, b}) : segment({x, scale});
    std::vector<Tensor> second = recompute ? recomputed(segment, {first[0], scale}, {w, b}) : segment({first[0], scale});
    return add(sum(mul(second[0], x)), sum(add(first[1], second[1])));
  };
  std::vector<Tensor> plain = grad({loss_of(false)}, {x, scale, w, b});
  runs = 0;
  std::vector<Tensor> again = grad({loss_of(true)}, {x, scale, w, b});
  BOOST_TEST(runs == 4);  // each segment once in forward, once in backward
  // x is also used outside the segments: its gradient's terms meet in another order
  // (the segment's own first, as one), so it agrees to rounding; the rest bit for bit.
  BOOST_TEST(testing::max_abs_difference(again[0], plain[0]) <= 1e-6 * testing::max_abs(plain[0]));
  for (size_t i = 1; i < plain.size(); ++i) {
    BOOST_TEST_CONTEXT("gradient " << i) { BOOST_TEST(same_bits(again[i], plain[i])); }
  }
}

BOOST_AUTO_TEST_CASE(parameters_get_their_gradients_through_backward) {
  Tensor x = leaf({4, 8}, 5), scale = Tensor::ones({4, 8}), w = leaf({8, 8}, 6), b = leaf({8}, 7);
  auto segment = [&](const std::vector<Tensor>& in) { return layer(in, w, b); };
  std::vector<Tensor> out = recomputed(segment, {x, scale}, {w, b});
  sum(add(sum(out[0], {1}), out[1])).backward();
  Tensor w_grad = w.grad(), x_grad = x.grad();
  BOOST_TEST(!scale.grad().defined());
  w.set_grad(Tensor());
  x.set_grad(Tensor());
  out = segment({x, scale});
  sum(add(sum(out[0], {1}), out[1])).backward();
  BOOST_TEST(same_bits(w_grad, w.grad()));
  BOOST_TEST(same_bits(x_grad, x.grad()));
}

BOOST_AUTO_TEST_CASE(the_second_run_uses_the_first_runs_autocast) {
  Tensor x = leaf({4, 16}, 8), w = leaf({16, 16}, 9);
  std::vector<DType> seen;
  auto segment = [&](const std::vector<Tensor>& in) {
    seen.push_back(autocast_dtype());
    return std::vector<Tensor>{matmul(in[0], w)};
  };
  Tensor y;
  {
    AutocastGuard bf16(DType::bf16);
    y = recomputed(segment, {x}, {w})[0];
  }
  sum(y).backward();  // outside the guard, as the trainer's backward is
  BOOST_TEST(seen.size() == 2u);
  BOOST_TEST((seen[1] == DType::bf16));
}

BOOST_AUTO_TEST_CASE(activations_are_not_kept_until_backward) {
  // Twenty element-wise layers of 1 MiB each: the plain graph keeps every one
  // alive until backward; the recomputed one keeps its input and its output.
  Tensor x = leaf({512, 512}, 10), w = leaf({512}, 11);
  auto deep = [&](const std::vector<Tensor>& in) {
    Tensor h = in[0];
    for (int i = 0; i < 20; ++i) h = tanh(mul(h, w));
    return std::vector<Tensor>{h};
  };
  auto held_after_forward = [&](bool recompute) {
    cpu_allocator().reset_peak();
    const size_t before = cpu_allocator().stats().bytes_in_use;
    Tensor y = recompute ? recomputed(deep, {x}, {w})[0] : deep({x})[0];
    const size_t held = cpu_allocator().stats().bytes_in_use - before;
    sum(y).backward();
    return double(held) / 1048576.0;
  };
  const double plain = held_after_forward(false), recomputed_mb = held_after_forward(true);
  BOOST_TEST_INFO("MiB held between forward and backward: plain " << plain << ", recomputed " << recomputed_mb);
  BOOST_TEST(plain > 35.0);
  BOOST_TEST(recomputed_mb < 3.0);
}

BOOST_AUTO_TEST_CASE(what_it_cannot_do_is_named) {
  Tensor x = leaf({3, 4}, 12);
  auto two_dtypes = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{in[0], in[0].to(DType::f64)}; };
  std::string message = testing::error_message([&] { recomputed(two_dtypes, {x}, {}); });
  BOOST_TEST_INFO(message);
  BOOST_TEST(message.find("one dtype; output 1 is f64") != std::string::npos);
  auto square = [](const std::vector<Tensor>& in) { return std::vector<Tensor>{mul(in[0], in[0])}; };
  Tensor y = sum(recomputed(square, {x}, {})[0]);
  message = testing::error_message([&] { grad({y}, {x}, {}, true); });
  BOOST_TEST_INFO(message);
  BOOST_TEST(message.find("create_graph") != std::string::npos);
  BOOST_TEST(message.find("recomputed segment") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(without_grad_it_is_the_segment_itself) {
  Tensor x = Tensor::ones({2, 2});
  int runs = 0;
  auto segment = [&](const std::vector<Tensor>& in) {
    ++runs;
    return std::vector<Tensor>{mul(in[0], 2.0), Tensor()};
  };
  std::vector<Tensor> out = recomputed(segment, {x}, {});
  BOOST_TEST(runs == 1);
  BOOST_TEST(!out[0].requires_grad());
  BOOST_TEST(!out[1].defined());
}

BOOST_AUTO_TEST_SUITE_END()
