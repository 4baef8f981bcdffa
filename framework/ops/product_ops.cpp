#include "framework/autograd/node.h"
#include "framework/kernels/kernels.h"
#include "framework/ops/ops.h"
#include "framework/precision/autocast.h"

namespace ft {

namespace {

// The gradient as the backward products take it: rounded to bf16 when the saved
// operand was cast to bf16 by autocast, as PyTorch's autocast does (there the
// output, and so its gradient, is bf16), so the backward GEMMs run on the bf16
// kernels too. Any other dtype pair keeps the gradient as it is.
Tensor gradient_for(const Tensor& g, const Tensor& saved_operand) {
  return saved_operand.dtype() == DType::bf16 && g.dtype() != DType::bf16 ? kernels::cast(g, DType::bf16) : g;
}

Tensor last_two_swapped(const Tensor& t) { return t.transpose(t.dim() - 2, t.dim() - 1); }

// conv2d's two gradients as ops of their own, so conv2d has a double backward. Both
// are bilinear; their adjoints are conv2d and each other:
// <A(g, W), h> = <g, conv2d(h, W)> = <B(h, g), W> for A the input and B the weight
// gradient. Their own backward is first-order (conv2d twice differentiable).
Tensor conv2d_input_gradient(const Tensor& g, const Tensor& weight, const Tensor& x_like, int64_t padding) {
  Tensor gx;
  kernels::conv2d_backward(x_like.detach(), weight.detach(), g.detach(), padding, &gx, nullptr);
  bool need_g = g.requires_grad(), need_w = weight.requires_grad();
  record("conv2d_input_gradient", gx, {g, weight},
         [gs = g.detach(), ws = weight.detach(), padding, need_g, need_w](const Tensor& h) {
           Tensor dg = need_g ? kernels::conv2d(h, ws, padding) : Tensor(), dw;
           if (need_w) kernels::conv2d_backward(h, ws, gs, padding, nullptr, &dw);
           return std::vector<Tensor>{dg, dw};
         });
  return gx;
}

Tensor conv2d_weight_gradient(const Tensor& x, const Tensor& g, const Tensor& weight_like, int64_t padding) {
  Tensor gw;
  kernels::conv2d_backward(x.detach(), weight_like.detach(), g.detach(), padding, nullptr, &gw);
  bool need_x = x.requires_grad(), need_g = g.requires_grad();
  record("conv2d_weight_gradient", gw, {x, g},
         [xs = x.detach(), gs = g.detach(), padding, need_x, need_g](const Tensor& k) {
           Tensor dx, dg = need_g ? kernels::conv2d(xs, k, padding) : Tensor();
           if (need_x) kernels::conv2d_backward(xs, k, gs, padding, &dx, nullptr);
           return std::vector<Tensor>{dx, dg};
         });
  return gw;
}

}  // namespace

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  Tensor a = autocast_input(a_in), b = autocast_input(b_in);
  Tensor y = kernels::matmul(a, b);
  bool need_a = a.requires_grad(), need_b = b.requires_grad();
  record(
      "matmul", y, {a, b},
      [as = a.detach(), bs = b.detach(), need_a, need_b](const Tensor& g_in) {
        Tensor g = gradient_for(g_in, as);
        return std::vector<Tensor>{
            need_a ? kernels::sum_to(kernels::matmul(g, bs, false, true), as.shape()) : Tensor(),
            need_b ? kernels::sum_to(kernels::matmul(as, g, true, false), bs.shape()) : Tensor()};
      },
      [a, b, need_a, need_b](const Tensor& g) {
        return std::vector<Tensor>{need_a ? sum_to(matmul(g, last_two_swapped(b)), a.shape()) : Tensor(),
                                   need_b ? sum_to(matmul(last_two_swapped(a), g), b.shape()) : Tensor()};
      });
  return y;
}

Tensor linear(const Tensor& x_in, const Tensor& weight_in, const Tensor& bias) {
  Tensor x = autocast_input(x_in), weight = autocast_input(weight_in);
  Tensor y = kernels::linear(x, weight, bias);
  int64_t in = weight.size(1), out = weight.size(0);
  Tensor x2 = x.detach().reshape({-1, in});
  bool need_x = x.requires_grad(), need_w = weight.requires_grad();
  std::vector<Tensor> inputs{x, weight};
  if (bias.defined()) inputs.push_back(bias);
  record(
      "linear", y, inputs,
      [x2, ws = weight.detach(), shape = x.shape(), has_bias = bias.defined(), need_x, need_w, out](const Tensor& g) {
        Tensor g2 = g.reshape({-1, out});
        Tensor g_low = gradient_for(g2, ws);
        std::vector<Tensor> grads{need_x ? kernels::matmul(g_low, ws).reshape(shape) : Tensor(),
                                  need_w ? kernels::matmul(g_low, x2, true, false) : Tensor()};
        if (has_bias) grads.push_back(kernels::sum(g2, {0}, false));
        return grads;
      },
      [x, weight, has_bias = bias.defined(), need_x, need_w, in, out](const Tensor& g) {
        Tensor g2 = g.reshape({-1, out});
        std::vector<Tensor> grads{need_x ? matmul(g2, weight).reshape(x.shape()) : Tensor(),
                                  need_w ? matmul(g2.transpose(0, 1), x.reshape({-1, in})) : Tensor()};
        if (has_bias) grads.push_back(sum(g2, {0}, false));
        return grads;
      });
  return y;
}

Tensor conv2d(const Tensor& x_in, const Tensor& weight_in, const Tensor& bias, int64_t padding) {
  Tensor x = autocast_input(x_in), weight = autocast_input(weight_in);
  Tensor y = kernels::conv2d(x, weight, padding);
  if (bias.defined()) {
    FT_CHECK(bias.shape() == Shape{weight.size(0)}, "conv2d bias {} for {} output channels", shape_str(bias.shape()),
             weight.size(0));
    kernels::add_inplace(y, bias.detach().reshape({1, -1, 1, 1}), 1.0);
  }
  std::vector<Tensor> inputs{x, weight};
  if (bias.defined()) inputs.push_back(bias);
  bool need_x = x.requires_grad(), need_w = weight.requires_grad();
  record(
      "conv2d", y, inputs,
      [xs = x.detach(), ws = weight.detach(), padding, has_bias = bias.defined(), need_x, need_w](const Tensor& g) {
        Tensor gx, gw;
        kernels::conv2d_backward(xs, ws, g, padding, need_x ? &gx : nullptr, need_w ? &gw : nullptr);
        std::vector<Tensor> grads{gx, gw};
        if (has_bias) grads.push_back(kernels::sum(g, {0, 2, 3}, false));
        return grads;
      },
      [x, weight, padding, has_bias = bias.defined(), need_x, need_w](const Tensor& g) {
        std::vector<Tensor> grads{need_x ? conv2d_input_gradient(g, weight, x, padding) : Tensor(),
                                  need_w ? conv2d_weight_gradient(x, g, weight, padding) : Tensor()};
        if (has_bias) grads.push_back(sum(g, {0, 2, 3}, false));
        return grads;
      });
  return y;
}

}  // namespace ft
