// Gradients as values (grad, vjp, jvp) and gradients of gradients: every op with a
// double backward against finite differences of its first-order gradient in f64,
// and every op without one refusing by name.
#include <memory>

#include "framework/autograd/node.h"
#include "tests/framework/gradcheck.h"

using namespace ft;
using ft::testing::check_second_gradients;
using ft::testing::leaf;
using Ts = std::vector<Tensor>;

BOOST_AUTO_TEST_SUITE(higher_order)

BOOST_AUTO_TEST_CASE(grad_returns_what_backward_accumulates_and_touches_no_grad) {
  Tensor x = leaf({3, 4}, 1), w = leaf({5, 4}, 2);
  auto loss = [&] { return sum(tanh(linear(x, w, Tensor()))); };
  loss().backward();
  Tensor gx = x.grad(), gw = w.grad();
  x.set_grad(Tensor());
  w.set_grad(Tensor());
  Ts grads = grad({loss()}, {x, w});
  BOOST_TEST(!x.grad().defined());
  BOOST_TEST(!w.grad().defined());
  ft::testing::check_close("grad x", grads[0], gx, 0.0);
  ft::testing::check_close("grad w", grads[1], gw, 0.0);
  BOOST_TEST(!grads[0].requires_grad());
}

BOOST_AUTO_TEST_CASE(grad_names_bad_inputs_and_leaves_unused_ones_undefined) {
  Tensor x = leaf({3}, 1), unused = leaf({2}, 2);
  Tensor constant = Tensor::ones({3}, DType::f64);
  Ts grads = grad({sum(exp(x))}, {x, unused});
  BOOST_TEST(grads[0].defined());
  BOOST_TEST(!grads[1].defined());
  BOOST_CHECK_EXCEPTION(grad({sum(exp(x))}, {constant}), std::exception, [](const std::exception& e) {
    return std::string(e.what()).find("input 0, which does not require grad") != std::string::npos;
  });
  BOOST_CHECK_EXCEPTION(grad({exp(x)}, {x}), std::exception, [](const std::exception& e) {
    return std::string(e.what()).find("needs a scalar") != std::string::npos;
  });
}

BOOST_AUTO_TEST_CASE(grad_with_respect_to_an_intermediate_counts_only_paths_through_it) {
  Tensor x = leaf({4}, 1);
  Tensor h = mul(x, 3.0);
  Tensor y = sum(add(mul(h, h), x));  // dy/dh = 2h; dy/dx = 6h * ... + 1
  Ts grads = grad({y}, {h, x});
  NoGradGuard no_grad;
  ft::testing::check_close("dy/dh", grads[0], mul(h, 2.0), 1e-15);
  ft::testing::check_close("dy/dx", grads[1], add(mul(h, 6.0), 1.0), 1e-15);
}

BOOST_AUTO_TEST_CASE(vector_jacobian_and_jacobian_vector_products_match_the_full_jacobian) {
  Tensor x = leaf({3}, 1), a = leaf({4, 3}, 2);
  Tensor u = leaf({3}, 3).detach(), v = leaf({4}, 4).detach();
  auto f = [&](const Tensor& in) { return tanh(matmul(a, in.unsqueeze(1)).squeeze(1)); };
  Tensor y = f(x);
  // The Jacobian by central differences, column by column.
  std::vector<double> jacobian(12);
  {
    NoGradGuard no_grad;
    double* px = x.data<double>();
    for (int j = 0; j < 3; ++j) {
      double saved = px[j];
      px[j] = saved + 1e-6;
      std::vector<double> up = f(x).to_double_vector();
      px[j] = saved - 1e-6;
      std::vector<double> down = f(x).to_double_vector();
      px[j] = saved;
      for (int i = 0; i < 4; ++i) jacobian[size_t(i * 3 + j)] = (up[size_t(i)] - down[size_t(i)]) / 2e-6;
    }
  }
  std::vector<double> vt_j(3, 0.0), j_u(4, 0.0);
  std::vector<double> vv = v.to_double_vector(), uu = u.to_double_vector();
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) {
      vt_j[size_t(j)] += vv[size_t(i)] * jacobian[size_t(i * 3 + j)];
      j_u[size_t(i)] += jacobian[size_t(i * 3 + j)] * uu[size_t(j)];
    }
  ft::testing::check_close("vjp", vjp(y, {x}, v, true)[0].to_double_vector(), vt_j, 1e-8);
  ft::testing::check_close("jvp", jvp(y, {x}, {u}).to_double_vector(), j_u, 1e-8);
}

BOOST_AUTO_TEST_CASE(a_gradient_penalty_trains_its_parameters) {
  // The pattern of residual flows and FFJORD: a loss made of an input gradient
  // (here |d sum(tanh(x W^T + b)) / dx|^2), differentiated for the parameters.
  check_second_gradients("input-gradient penalty", [](const Ts& p) { return tanh(linear(p[0], p[1], p[2])); },
                         {leaf({3, 4}, 1), leaf({2, 4}, 2), leaf({2}, 3)});
}

BOOST_AUTO_TEST_CASE(graphs_of_gradients_are_freed_with_their_results) {
  std::weak_ptr<Node> first_order_node, forward_node;
  {
    Tensor x = leaf({5}, 1);
    Tensor y = sum(mul(sigmoid(x), x));
    forward_node = y.grad_fn();
    Tensor g = grad({y}, {x}, {}, true)[0];
    first_order_node = g.grad_fn();
    BOOST_TEST(!first_order_node.expired());
    Tensor gg = grad({sum(g)}, {x})[0];
    BOOST_TEST(gg.defined());
  }
  BOOST_TEST(first_order_node.expired());
  BOOST_TEST(forward_node.expired());
}

BOOST_AUTO_TEST_CASE(binary_and_scalar_ops) {
  check_second_gradients("add", [](const Ts& x) { return mul(add(x[0], x[1]), add(x[0], x[1])); },
                         {leaf({3, 1, 4}, 1), leaf({2, 4}, 2)});
  check_second_gradients("sub", [](const Ts& x) { return square(sub(x[0], x[1])); },
                         {leaf({3, 1, 4}, 1), leaf({2, 4}, 2)});
  check_second_gradients("mul", [](const Ts& x) { return mul(x[0], x[1]); }, {leaf({3, 1, 4}, 1), leaf({2, 4}, 2)});
  check_second_gradients("div", [](const Ts& x) { return div(x[0], x[1]); },
                         {leaf({3, 2, 1}, 1), leaf({4}, 2, 0.5, 2.0)});
  check_second_gradients("mul transposed", [](const Ts& x) { return mul(x[0].transpose(0, 1), x[1]); },
                         {leaf({4, 3}, 3), leaf({3, 4}, 4)});
  check_second_gradients("scalar add/mul", [](const Ts& x) { return square(mul(add(x[0], 0.5), -1.5)); },
                         {leaf({5}, 5)});
}

BOOST_AUTO_TEST_CASE(unary_ops) {
  auto t = [](Tensor (*op)(const Tensor&)) {
    return [op](const Ts& x) { return op(x[0].transpose(0, 1)); };
  };
  check_second_gradients("neg", [](const Ts& x) { return mul(neg(x[0]), x[0]); }, {leaf({3, 4}, 1)});
  check_second_gradients("exp", t(exp), {leaf({3, 4}, 1)});
  check_second_gradients("log", t(log), {leaf({3, 4}, 1, 0.5, 2.0)});
  check_second_gradients("sqrt", t(sqrt), {leaf({3, 4}, 1, 0.5, 2.0)});
  check_second_gradients("square", t(square), {leaf({3, 4}, 1)});
  check_second_gradients("abs", [](const Ts& x) { return mul(abs(x[0]), x[0]); }, {leaf({3, 4}, 1, 0.1, 1.0)});
  check_second_gradients("sigmoid", t(sigmoid), {leaf({3, 4}, 1, -4, 4)});
  check_second_gradients("log_sigmoid", t(log_sigmoid), {leaf({3, 4}, 1, -4, 4)});
  check_second_gradients("softplus", t(softplus), {leaf({3, 4}, 1, -4, 4)});
  check_second_gradients("tanh", t(tanh), {leaf({3, 4}, 1, -2, 2)});
  check_second_gradients("gelu", t(gelu), {leaf({3, 4}, 1, -3, 3)});
  check_second_gradients("relu", [](const Ts& x) { return mul(relu(x[0]), x[0]); }, {leaf({3, 4}, 1, 0.1, 1.0)});
  check_second_gradients("pow", [](const Ts& x) { return pow(x[0].transpose(0, 1), 2.5); },
                         {leaf({3, 4}, 1, 0.5, 2.0)});
}

BOOST_AUTO_TEST_CASE(reductions_and_products) {
  check_second_gradients("sum dims", [](const Ts& x) { return square(sum(x[0], {0, 2})); }, {leaf({2, 3, 4}, 1)});
  check_second_gradients("mean keepdim", [](const Ts& x) { return mul(mean(x[0], {-1}, true), x[0]); },
                         {leaf({2, 3, 4}, 1)});
  check_second_gradients("sum_to", [](const Ts& x) { return square(sum_to(x[0], {3, 1})); }, {leaf({2, 3, 4}, 1)});
  check_second_gradients("matmul batched broadcast", [](const Ts& x) { return matmul(x[0], x[1]); },
                         {leaf({2, 1, 3, 4}, 1), leaf({3, 4, 2}, 2)});
  check_second_gradients("matmul squared", [](const Ts& x) { return square(matmul(x[0].transpose(0, 1), x[1])); },
                         {leaf({4, 3}, 1), leaf({4, 2}, 2)});
  check_second_gradients("linear", [](const Ts& x) { return square(linear(x[0], x[1], x[2])); },
                         {leaf({2, 3, 4}, 1), leaf({5, 4}, 2), leaf({5}, 3)});
  check_second_gradients("conv2d 3x3", [](const Ts& x) { return square(conv2d(x[0], x[1], x[2], 1)); },
                         {leaf({2, 2, 3, 4}, 1), leaf({3, 2, 3, 3}, 2), leaf({3}, 3)});
  check_second_gradients("conv2d 1x1 strided", [](const Ts& x) {
    return tanh(conv2d(x[0].transpose(2, 3), x[1], Tensor(), 0));
  }, {leaf({1, 2, 3, 2}, 1), leaf({2, 2, 1, 1}, 2)});
  check_second_gradients("replica_average of one replica", [](const Ts& x) {
    return square(replica_average(x[0], [](Tensor&) {}));
  }, {leaf({3}, 1)});
}

BOOST_AUTO_TEST_CASE(normalisation) {
  check_second_gradients("layer_norm affine", [](const Ts& x) { return layer_norm(x[0], x[1], x[2]); },
                         {leaf({3, 2, 6}, 1), leaf({6}, 2), leaf({6}, 3)});
  check_second_gradients("layer_norm plain strided",
                         [](const Ts& x) { return layer_norm(x[0].transpose(0, 1), Tensor(), Tensor()); },
                         {leaf({5, 3}, 1)});
  check_second_gradients("channel_affine", [](const Ts& x) { return channel_affine(x[0], x[1], x[2]); },
                         {leaf({2, 3, 2, 2}, 1), leaf({1, 3, 1, 1}, 2), leaf({3}, 3, -1, 1)});
  check_second_gradients("softmax dim 0", [](const Ts& x) { return softmax(x[0], 0); }, {leaf({3, 5}, 1, -2, 2)});
  check_second_gradients("log_softmax", [](const Ts& x) { return log_softmax(x[0], 1); }, {leaf({3, 5}, 1, -2, 2)});
}

BOOST_AUTO_TEST_CASE(views_copies_and_concat) {
  check_second_gradients("views", [](const Ts& x) {
    return square(x[0].slice(1, 1, 3).permute({2, 0, 1}).reshape({-1}).unsqueeze(0).expand({3, 24}).select(0, 1));
  }, {leaf({2, 4, 6}, 1)});
  check_second_gradients("squeeze clone contiguous", [](const Ts& x) {
    return square(x[0].transpose(0, 2).contiguous().squeeze(1).clone());
  }, {leaf({3, 1, 2}, 1)});
  check_second_gradients("concat split chunk", [](const Ts& x) {
    Tensor c = concat({x[0], square(x[1])}, 1);
    auto parts = chunk(c, 5, 1);
    return mul(parts[0], parts[4]);
  }, {leaf({2, 3}, 1), leaf({2, 2}, 2)});
  check_second_gradients("space_to_depth", [](const Ts& x) { return square(space_to_depth(x[0], 2)); },
                         {leaf({1, 2, 4, 2}, 1)});
  check_second_gradients("dtype round trip", [](const Ts& x) { return square(x[0].to(DType::f32).to(DType::f64)); },
                         {leaf({4}, 1)}, 1e-3, 1e-3);
}

BOOST_AUTO_TEST_CASE(attention_max_indexing_and_linear_algebra) {
  check_second_gradients("causal_attention", [](const Ts& x) { return causal_attention(x[0], x[1], x[2]); },
                         {leaf({1, 2, 4, 3}, 1), leaf({1, 2, 4, 3}, 2), leaf({1, 2, 4, 3}, 3)});
  check_second_gradients("causal_attention scaled", [](const Ts& x) { return causal_attention(x[0], x[0], x[1], 0.7); },
                         {leaf({2, 1, 3, 2}, 4), leaf({2, 1, 3, 2}, 5)});
  check_second_gradients("causal_attention_packed", [](const Ts& x) { return causal_attention_packed(x[0], 0.8); },
                         {leaf({1, 3, 3, 2, 2}, 5)});
  check_second_gradients("max", [](const Ts& x) { return square(max(x[0], 1)); }, {leaf({3, 5}, 1)});
  check_second_gradients("max keepdim", [](const Ts& x) { return mul(max(x[0], 0, true), x[0]); }, {leaf({3, 2}, 2)});
  check_second_gradients("index_select", [](const Ts& x) {
    return square(index_select(x[0], 1, Tensor::from_vector(std::vector<int64_t>{2, 0, 2, 1}, {4})));
  }, {leaf({2, 3}, 1)});
  check_second_gradients("flip", [](const Ts& x) { return mul(flip(x[0], 0), x[0]); }, {leaf({4, 2}, 1)});
  // Well-conditioned matrices: the identity's neighbourhood.
  auto near_identity = [](const Tensor& m) { return add(m, Tensor::from_vector(std::vector<double>{2, 0, 0, 0, 2, 0, 0, 0, 2}, {3, 3})); };
  check_second_gradients("logabsdet", [&](const Ts& x) { return logabsdet(near_identity(x[0])); }, {leaf({3, 3}, 1)});
  check_second_gradients("inverse", [&](const Ts& x) { return inverse(near_identity(x[0])); }, {leaf({3, 3}, 2)});
  for (bool lower : {true, false})
    for (bool unit : {false, true})
      check_second_gradients(std::string("triangular_solve ") + (lower ? "lower" : "upper") + (unit ? " unit" : ""),
                             [&](const Ts& x) { return triangular_solve(near_identity(x[0]), x[1], lower, unit); },
                             {leaf({3, 3}, 3), leaf({3, 2}, 4)});
}

BOOST_AUTO_TEST_CASE(ops_differentiable_only_twice_refuse_a_third_order_by_name) {
  // gelu and conv2d have double backwards whose own backward is first order (their
  // derivatives are ops of their own); the adjoint ODE solve (framework/ode) is first
  // order. Each must say so rather than treat its gradient as a constant.
  struct Case {
    const char* op;
    std::function<Tensor(const Tensor&)> fn;
  };
  std::vector<Case> cases{
      {"gelu_derivative", [](const Tensor& x) { return grad({sum(gelu(x))}, {x}, {}, true)[0]; }},
      {"conv2d_", [](const Tensor& x) {
         Tensor image = x.reshape({1, 2, 2, 2}), weight = x.reshape({-1}).slice(0, 0, 2).reshape({1, 2, 1, 1});
         return grad({sum(square(conv2d(image, weight, Tensor(), 0)))}, {x}, {}, true)[0];
       }},
  };
  for (const Case& c : cases) {
    Tensor x = leaf({2, 4}, 1);
    Tensor y = sum(square(c.fn(x)));
    BOOST_CHECK_EXCEPTION(grad({y}, {x}, {}, true), std::exception, [&](const std::exception& e) {
      std::string what = e.what();
      BOOST_TEST_MESSAGE(c.op << ": " << what);
      return what.find(std::string("through ") + c.op) != std::string::npos &&
             what.find("which has only a first-order backward") != std::string::npos;
    });
  }
}

BOOST_AUTO_TEST_SUITE_END()
