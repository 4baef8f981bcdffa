#include "framework/autograd/node.h"
#include "framework/kernels/kernels.h"
#include "framework/ops/ops.h"

namespace ft {

namespace {

Tensor reduce_to(const Tensor& g, const Shape& shape) { return kernels::sum_to(g, shape); }

Tensor unary_op(const char* name, UnaryOp op, const Tensor& x, double p = 0.0) {
  Tensor y = kernels::unary(op, x, p);
  record(name, y, {x}, [op, p, xs = x.detach(), ys = y.detach()](const Tensor& g) {
    return std::vector<Tensor>{kernels::unary_backward(op, xs, ys, g, p)};
  });
  return y;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor y = kernels::binary(BinaryOp::add, a, b);
  record("add", y, {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) {
    return std::vector<Tensor>{reduce_to(g, sa), reduce_to(g, sb)};
  });
  return y;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor y = kernels::binary(BinaryOp::sub, a, b);
  record("sub", y, {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g) {
    return std::vector<Tensor>{reduce_to(g, sa), kernels::scale_shift(reduce_to(g, sb), -1.0, 0.0)};
  });
  return y;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor y = kernels::binary(BinaryOp::mul, a, b);
  bool need_a = a.requires_grad(), need_b = b.requires_grad();
  record("mul", y, {a, b}, [as = a.detach(), bs = b.detach(), need_a, need_b](const Tensor& g) {
    return std::vector<Tensor>{
        need_a ? reduce_to(kernels::binary(BinaryOp::mul, g, bs), as.shape()) : Tensor(),
        need_b ? reduce_to(kernels::binary(BinaryOp::mul, g, as), bs.shape()) : Tensor()};
  });
  return y;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor y = kernels::binary(BinaryOp::div, a, b);
  bool need_a = a.requires_grad(), need_b = b.requires_grad();
  record("div", y, {a, b}, [sa = a.shape(), bs = b.detach(), ys = y.detach(), need_a, need_b](const Tensor& g) {
    Tensor g_over_b = kernels::binary(BinaryOp::div, g, bs);
    return std::vector<Tensor>{
        need_a ? reduce_to(g_over_b, sa) : Tensor(),
        need_b ? kernels::scale_shift(reduce_to(kernels::binary(BinaryOp::mul, g_over_b, ys), bs.shape()), -1.0, 0.0)
               : Tensor()};
  });
  return y;
}

Tensor add(const Tensor& a, double b) {
  Tensor y = kernels::scale_shift(a, 1.0, b);
  record("add_scalar", y, {a}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
  return y;
}

Tensor mul(const Tensor& a, double b) {
  Tensor y = kernels::scale_shift(a, b, 0.0);
  record("mul_scalar", y, {a}, [b](const Tensor& g) { return std::vector<Tensor>{kernels::scale_shift(g, b, 0.0)}; });
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
