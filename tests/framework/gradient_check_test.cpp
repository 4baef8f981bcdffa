// Every differentiable op against central finite differences in f64, with
// broadcasting and non-contiguous (transposed, sliced) inputs among the cases.
#include "tests/framework/gradcheck.h"

using namespace ft;
using ft::testing::check_gradients;
using ft::testing::leaf;
using Ts = std::vector<Tensor>;

BOOST_AUTO_TEST_SUITE(gradient_check)

BOOST_AUTO_TEST_CASE(broadcasting_binary_ops) {
  check_gradients("add", [](const Ts& x) { return add(x[0], x[1]); }, {leaf({3, 1, 4}, 1), leaf({2, 4}, 2)});
  check_gradients("sub", [](const Ts& x) { return sub(x[0], x[1]); }, {leaf({3, 1, 4}, 1), leaf({2, 4}, 2)});
  check_gradients("mul", [](const Ts& x) { return mul(x[0], x[1]); }, {leaf({3, 1, 4}, 1), leaf({2, 4}, 2)});
  check_gradients("div", [](const Ts& x) { return div(x[0], x[1]); }, {leaf({3, 2, 1}, 1), leaf({4}, 2, 0.5, 2.0)});
  check_gradients("mul transposed", [](const Ts& x) { return mul(x[0].transpose(0, 1), x[1]); },
                  {leaf({4, 3}, 3), leaf({3, 4}, 4)});
  check_gradients("scalar add/mul", [](const Ts& x) { return mul(add(x[0], 0.5), -1.5); }, {leaf({5}, 5)});
}

BOOST_AUTO_TEST_CASE(unary_ops_on_strided_inputs) {
  // Transposed views make every input non-contiguous.
  auto t = [](Tensor (*op)(const Tensor&)) {
    return [op](const Ts& x) { return op(x[0].transpose(0, 1)); };
  };
  check_gradients("neg", t(neg), {leaf({3, 4}, 1)});
  check_gradients("exp", t(exp), {leaf({3, 4}, 1)});
  check_gradients("log", t(log), {leaf({3, 4}, 1, 0.5, 2.0)});
  check_gradients("sqrt", t(sqrt), {leaf({3, 4}, 1, 0.5, 2.0)});
  check_gradients("square", t(square), {leaf({3, 4}, 1)});
  check_gradients("abs", t(abs), {leaf({3, 4}, 1, 0.1, 1.0)});
  check_gradients("sigmoid", t(sigmoid), {leaf({3, 4}, 1, -4, 4)});
  check_gradients("log_sigmoid", t(log_sigmoid), {leaf({3, 4}, 1, -4, 4)});
  check_gradients("softplus", t(softplus), {leaf({3, 4}, 1, -4, 4)});
  check_gradients("tanh", t(tanh), {leaf({3, 4}, 1, -2, 2)});
  check_gradients("gelu", t(gelu), {leaf({3, 4}, 1, -3, 3)});
  check_gradients("relu", t(relu), {leaf({3, 4}, 1, 0.1, 1.0)});
  check_gradients("relu negative", t(relu), {leaf({3, 4}, 2, -1.0, -0.1)});
  check_gradients("pow", [](const Ts& x) { return pow(x[0].transpose(0, 1), 2.5); }, {leaf({3, 4}, 1, 0.5, 2.0)});
}

BOOST_AUTO_TEST_CASE(reductions) {
  check_gradients("sum dims", [](const Ts& x) { return sum(x[0], {0, 2}); }, {leaf({2, 3, 4}, 1)});
  check_gradients("sum keepdim", [](const Ts& x) { return sum(x[0], {1}, true); }, {leaf({2, 3, 4}, 1)});
  check_gradients("sum all strided", [](const Ts& x) { return sum(x[0].permute({2, 0, 1})); }, {leaf({2, 3, 4}, 1)});
  check_gradients("mean", [](const Ts& x) { return mean(x[0], {-1}); }, {leaf({2, 3, 4}, 1)});
  check_gradients("max", [](const Ts& x) { return max(x[0], 1); }, {leaf({2, 5, 3}, 1)});
  check_gradients("max keepdim last", [](const Ts& x) { return max(x[0].transpose(1, 2), -1, true); },
                  {leaf({2, 5, 3}, 2)});
}

BOOST_AUTO_TEST_CASE(products) {
  check_gradients("matmul", [](const Ts& x) { return matmul(x[0], x[1]); }, {leaf({3, 4}, 1), leaf({4, 5}, 2)});
  check_gradients("matmul batched broadcast", [](const Ts& x) { return matmul(x[0], x[1]); },
                  {leaf({2, 1, 3, 4}, 1), leaf({3, 4, 2}, 2)});
  check_gradients("matmul transposed operand", [](const Ts& x) { return matmul(x[0].transpose(0, 1), x[1]); },
                  {leaf({4, 3}, 1), leaf({4, 2}, 2)});
  check_gradients("linear", [](const Ts& x) { return linear(x[0], x[1], x[2]); },
                  {leaf({2, 3, 4}, 1), leaf({5, 4}, 2), leaf({5}, 3)});
  check_gradients("linear no bias strided", [](const Ts& x) { return linear(x[0].transpose(0, 1), x[1], Tensor()); },
                  {leaf({4, 3}, 1), leaf({2, 4}, 2)});
  check_gradients("conv2d 3x3", [](const Ts& x) { return conv2d(x[0], x[1], x[2], 1); },
                  {leaf({2, 3, 5, 4}, 1), leaf({4, 3, 3, 3}, 2), leaf({4}, 3)});
  check_gradients("conv2d 1x1 no bias", [](const Ts& x) { return conv2d(x[0], x[1], Tensor(), 0); },
                  {leaf({2, 3, 4, 4}, 1), leaf({5, 3, 1, 1}, 2)});
  check_gradients("conv2d strided input", [](const Ts& x) { return conv2d(x[0].transpose(2, 3), x[1], Tensor(), 1); },
                  {leaf({1, 2, 3, 5}, 1), leaf({2, 2, 3, 3}, 2)});
}

BOOST_AUTO_TEST_CASE(normalisation_and_attention) {
  check_gradients("layer_norm affine", [](const Ts& x) { return layer_norm(x[0], x[1], x[2]); },
                  {leaf({3, 2, 6}, 1), leaf({6}, 2), leaf({6}, 3)});
  check_gradients("layer_norm plain strided", [](const Ts& x) { return layer_norm(x[0].transpose(0, 1), Tensor(), Tensor()); },
                  {leaf({5, 3}, 1)});
  check_gradients("channel_affine", [](const Ts& x) { return channel_affine(x[0], x[1], x[2]); },
                  {leaf({2, 3, 4, 5}, 1), leaf({1, 3, 1, 1}, 2), leaf({3}, 3, -1, 1)});
  check_gradients("channel_affine strided", [](const Ts& x) { return channel_affine(x[0].transpose(2, 3), x[1], x[2]); },
                  {leaf({2, 3, 4, 5}, 4), leaf({3}, 5), leaf({1, 3, 1, 1}, 6, -1, 1)});
  check_gradients("softmax last", [](const Ts& x) { return softmax(x[0], -1); }, {leaf({3, 5}, 1, -2, 2)});
  check_gradients("softmax dim 0", [](const Ts& x) { return softmax(x[0], 0); }, {leaf({3, 5}, 1, -2, 2)});
  check_gradients("log_softmax", [](const Ts& x) { return log_softmax(x[0], 1); }, {leaf({3, 5}, 1, -2, 2)});
  check_gradients("causal_attention", [](const Ts& x) { return causal_attention(x[0], x[1], x[2]); },
                  {leaf({2, 2, 5, 3}, 1), leaf({2, 2, 5, 3}, 2), leaf({2, 2, 5, 3}, 3)});
  check_gradients("causal_attention strided scaled",
                  [](const Ts& x) { return causal_attention(x[0].transpose(1, 2), x[1], x[2], 0.7); },
                  {leaf({1, 4, 2, 3}, 1), leaf({1, 2, 4, 3}, 2), leaf({1, 2, 4, 3}, 3)});
  check_gradients("causal_attention_packed", [](const Ts& x) { return causal_attention_packed(x[0], 0.6); },
                  {leaf({2, 5, 3, 2, 3}, 4)});
}

// The packed op reads q, k, v in place and writes one packed gradient: the same
// numbers as causal_attention on the three heads-first views.
BOOST_AUTO_TEST_CASE(packed_attention_equals_attention_on_views) {
  for (DType dtype : {DType::f64, DType::f32}) {
    Tensor a = leaf({2, 6, 3, 2, 4}, 7).to(dtype).detach().set_requires_grad(true);
    Tensor b = a.detach().clone().set_requires_grad(true);
    Tensor g = leaf({2, 2, 6, 4}, 8).to(dtype).detach();
    Tensor packed = causal_attention_packed(a, 0.5);
    auto view = [&](int64_t i) { return b.select(2, i).permute({0, 2, 1, 3}); };
    Tensor separate = causal_attention(view(0), view(1), view(2), 0.5);
    sum(mul(packed, g)).backward();
    sum(mul(separate, g)).backward();
    const double tolerance = dtype == DType::f64 ? 1e-12 : 1e-6;
    BOOST_TEST(ft::testing::max_abs_difference(packed, separate) <= tolerance);
    BOOST_TEST(ft::testing::max_abs_difference(a.grad(), b.grad()) <= tolerance);
  }
}

BOOST_AUTO_TEST_CASE(shape_and_indexing) {
  check_gradients("concat", [](const Ts& x) { return concat({x[0], x[1]}, 1); }, {leaf({2, 3}, 1), leaf({2, 2}, 2)});
  check_gradients("split", [](const Ts& x) { return mul(split(x[0], {1, 3}, 1)[1], 2.0); }, {leaf({2, 4}, 1)});
  check_gradients("chunk", [](const Ts& x) {
    auto parts = chunk(x[0], 2, 0);
    return mul(parts[0], parts[1]);
  }, {leaf({4, 3}, 1)});
  check_gradients("flip", [](const Ts& x) { return flip(x[0], 1); }, {leaf({2, 4, 3}, 1)});
  check_gradients("index_select repeats", [](const Ts& x) {
    return index_select(x[0], 0, Tensor::from_vector<int64_t>({2, 0, 2, 1}, {4}));
  }, {leaf({3, 2}, 1)});
  check_gradients("space_to_depth", [](const Ts& x) { return space_to_depth(x[0], 2); }, {leaf({2, 3, 4, 6}, 1)});
  check_gradients("depth_to_space", [](const Ts& x) { return depth_to_space(x[0], 2); }, {leaf({1, 8, 2, 3}, 1)});
  check_gradients("views", [](const Ts& x) {
    return x[0].slice(1, 1, 3).permute({2, 0, 1}).reshape({-1}).unsqueeze(0).expand({3, 24}).select(0, 1);
  }, {leaf({2, 4, 6}, 1)});
  check_gradients("squeeze clone contiguous", [](const Ts& x) {
    return x[0].transpose(0, 2).contiguous().squeeze(1).clone();
  }, {leaf({3, 1, 2}, 1)});
  check_gradients("dtype round trip", [](const Ts& x) { return x[0].to(DType::f32).to(DType::f64); },
                  {leaf({4}, 1)}, 1e-3, 1e-3);  // f32 in the middle: ~1e-7 / eps
}

BOOST_AUTO_TEST_CASE(small_linear_algebra) {
  auto well_conditioned = [](uint64_t stream) {
    Tensor a = leaf({4, 4}, stream, -0.3, 0.3);
    NoGradGuard no_grad;
    double* p = a.data<double>();
    for (int i = 0; i < 4; ++i) p[i * 5] += (i % 2 ? -2.0 : 2.0);  // a negative determinant factor too
    return a;
  };
  check_gradients("logabsdet", [](const Ts& x) { return logabsdet(x[0]); }, {well_conditioned(1)});
  check_gradients("inverse", [](const Ts& x) { return inverse(x[0]); }, {well_conditioned(2)});
  check_gradients("triangular_solve lower", [](const Ts& x) { return triangular_solve(x[0], x[1], true); },
                  {well_conditioned(3), leaf({4, 2}, 4)});
  check_gradients("triangular_solve upper unit", [](const Ts& x) { return triangular_solve(x[0], x[1], false, true); },
                  {well_conditioned(5), leaf({4, 3}, 6)});
}

BOOST_AUTO_TEST_SUITE_END()
