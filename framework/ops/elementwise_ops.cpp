#include "framework/autograd/node.h"
#include "framework/kernels/kernels.h"
#include "framework/ops/ops.h"

namespace ft {

namespace {

// d op / dx written with differentiable ops, for gradients of gradients.
Tensor unary_derivative(UnaryOp op, const Tensor& x, double p);

Tensor unary_op(const char* name, UnaryOp op, const Tensor& x, double p = 0.0) {
  Tensor y = kernels::unary(op, x, p);
  record(
      name, y, {x},
      // GELU's output, say, is often consumed (and freed) by the next op: kept only where read.
      [op, p, x, ys = unary_backward_reads_output(op) ? y.detach() : Tensor()](const Tensor& g) {
        return std::vector<Tensor>{kernels::unary_backward(op, x, ys, g, p)};
      },
      [op, p, x](const Tensor& g) {
        return std::vector<Tensor>{op == UnaryOp::neg ? neg(g) : mul(g, unary_derivative(op, x, p))};
      });
  return y;
}

// The value of op'(x), with no graph: what relu's step and abs's sign are (their own
// derivative is zero almost everywhere), and what gelu_derivative records a node for.
Tensor derivative_value(UnaryOp op, const Tensor& x) {
  Tensor xs = x.detach();
  return kernels::unary_backward(op, xs, kernels::unary(op, xs, 0.0), Tensor::ones(x.shape(), x.dtype(), x.device()),
                                 0.0);
}

// gelu'(x) = Phi(x) + x phi(x), an op of its own whose derivative is
// gelu''(x) = phi(x) (2 - x^2): gelu is differentiable twice, not three times.
Tensor gelu_derivative(const Tensor& x) {
  Tensor xs = x.detach();
  Tensor y = derivative_value(UnaryOp::gelu, xs);
  record("gelu_derivative", y, {x}, [xs](const Tensor& g) {
    Tensor x2 = kernels::unary(UnaryOp::square, xs, 0.0);
    Tensor phi = kernels::scale_shift(kernels::unary(UnaryOp::exp, kernels::scale_shift(x2, -0.5, 0.0), 0.0),
                                      0.3989422804014327, 0.0);
    Tensor second = kernels::binary(BinaryOp::mul, phi, kernels::scale_shift(x2, -1.0, 2.0));
    return std::vector<Tensor>{kernels::binary(BinaryOp::mul, g, second)};
  });
  return y;
}

Tensor unary_derivative(UnaryOp op, const Tensor& x, double p) {
  switch (op) {
    case UnaryOp::exp: return exp(x);
    case UnaryOp::log: return div(Tensor::ones({}, x.dtype(), x.device()), x);
    case UnaryOp::sqrt: return div(Tensor::full({}, 0.5, x.dtype(), x.device()), sqrt(x));
    case UnaryOp::square: return mul(x, 2.0);
    case UnaryOp::pow: return mul(pow(x, p - 1.0), p);
    case UnaryOp::sigmoid: {
      Tensor s = sigmoid(x);
      return mul(s, add(neg(s), 1.0));
    }
    case UnaryOp::log_sigmoid: return sigmoid(neg(x));
    case UnaryOp::softplus: return sigmoid(x);
    case UnaryOp::tanh: return add(neg(square(tanh(x))), 1.0);
    case UnaryOp::relu:
    case UnaryOp::abs: return derivative_value(op, x);
    case UnaryOp::gelu: return gelu_derivative(x);
    case UnaryOp::neg: break;
  }
  FT_FAIL("no derivative formula for unary op {}", int(op));
}

}  // namespace

// The binary ops' backward is written with ops (sum_to, mul, div), so it is the same
// function for first-order and double backward.
Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = kernels::binary(BinaryOp::add, a, b);
  record_differentiable("add", y, {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, sa), sum_to(g, sb)};
  });
  return y;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor y = kernels::binary(BinaryOp::sub, a, b);
  record_differentiable("sub", y, {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, sa), neg(sum_to(g, sb))};
  });
  return y;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = kernels::binary(BinaryOp::mul, a, b);
  bool need_a = a.requires_grad(), need_b = b.requires_grad();
  record_differentiable("mul", y, {a, b}, [a, b, need_a, need_b](const Tensor& g) {
    return std::vector<Tensor>{need_a ? sum_to(mul(g, b), a.shape()) : Tensor(),
                               need_b ? sum_to(mul(g, a), b.shape()) : Tensor()};
  });
  return y;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor y = kernels::binary(BinaryOp::div, a, b);
  bool need_a = a.requires_grad(), need_b = b.requires_grad();
  record(
      "div", y, {a, b},
      [sa = a.shape(), bs = b.detach(), ys = y.detach(), need_a, need_b](const Tensor& g) {
        Tensor g_over_b = kernels::binary(BinaryOp::div, g, bs);
        return std::vector<Tensor>{
            need_a ? kernels::sum_to(g_over_b, sa) : Tensor(),
            need_b ? kernels::scale_shift(kernels::sum_to(kernels::binary(BinaryOp::mul, g_over_b, ys), bs.shape()),
                                          -1.0, 0.0)
                   : Tensor()};
      },
      [a, b, need_a, need_b](const Tensor& g) {  // y recomputed: saving it would be a cycle
        Tensor g_over_b = div(g, b);
        return std::vector<Tensor>{need_a ? sum_to(g_over_b, a.shape()) : Tensor(),
                                   need_b ? neg(sum_to(mul(g_over_b, div(a, b)), b.shape())) : Tensor()};
      });
  return y;
}

Tensor add(const Tensor& a, double b) {
  Tensor y = kernels::scale_shift(a, 1.0, b);
  record_differentiable("add_scalar", y, {a}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
  return y;
}

Tensor mul(const Tensor& a, double b) {
  Tensor y = kernels::scale_shift(a, b, 0.0);
  record_differentiable("mul_scalar", y, {a}, [b](const Tensor& g) { return std::vector<Tensor>{mul(g, b)}; });
  return y;
}

Tensor neg(const Tensor& x) { return unary_op("neg", UnaryOp::neg, x); }
Tensor exp(const Tensor& x) { return unary_op("exp", UnaryOp::exp, x); }
Tensor log(const Tensor& x) { return unary_op("log", UnaryOp::log, x); }
Tensor sqrt(const Tensor& x) { return unary_op("sqrt", UnaryOp::sqrt, x); }
Tensor square(const Tensor& x) { return unary_op("square", UnaryOp::square, x); }
Tensor pow(const Tensor& x, double exponent) { return unary_op("pow", UnaryOp::pow, x, exponent); }
Tensor abs(const Tensor& x) { return unary_op("abs", UnaryOp::abs, x); }
Tensor sigmoid(const Tensor& x) { return unary_op("sigmoid", UnaryOp::sigmoid, x); }
Tensor log_sigmoid(const Tensor& x) { return unary_op("log_sigmoid", UnaryOp::log_sigmoid, x); }
Tensor softplus(const Tensor& x) { return unary_op("softplus", UnaryOp::softplus, x); }
Tensor tanh(const Tensor& x) { return unary_op("tanh", UnaryOp::tanh, x); }
Tensor relu(const Tensor& x) { return unary_op("relu", UnaryOp::relu, x); }
Tensor gelu(const Tensor& x) { return unary_op("gelu", UnaryOp::gelu, x); }

}  // namespace ft
