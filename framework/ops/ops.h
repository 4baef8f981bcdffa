// Differentiable operations: each computes with a kernel and records a node that
// holds what its backward needs. Element-wise ops broadcast like numpy. Every op has
// a double backward (framework/autograd/grad.h, create_graph): most written with ops,
// the fused ones (causal_attention and its packed form, max, index_select, flip, the
// small linear algebra) by recomputation from primitives or by their adjoint ops.
// gelu and conv2d are differentiable twice, not three times, and say so by name
// (tests/framework/higher_order_test.cpp).
#pragma once
#include <functional>
#include <vector>

#include "framework/core/tensor.h"

namespace ft {

// ---- element-wise --------------------------------------------------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, double b);
Tensor mul(const Tensor& a, double b);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor square(const Tensor& x);
Tensor pow(const Tensor& x, double exponent);
Tensor abs(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor log_sigmoid(const Tensor& x);
Tensor softplus(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor gelu(const Tensor& x);  // exact (erf) form, as torch.nn.GELU()

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator+(const Tensor& a, double b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, double b) { return add(a, -b); }
inline Tensor operator*(const Tensor& a, double b) { return mul(a, b); }
inline Tensor operator*(double a, const Tensor& b) { return mul(b, a); }
inline Tensor operator/(const Tensor& a, double b) { return mul(a, 1.0 / b); }
inline Tensor operator-(const Tensor& x) { return neg(x); }

// ---- reductions ------------------------------------------------------------------------
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor sum(const Tensor& x);  // all elements, a scalar
// x summed down to shape, the inverse of broadcasting shape to x's shape.
Tensor sum_to(const Tensor& x, const Shape& shape);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor mean(const Tensor& x);
// The mean of x over the data-parallel replicas, by `average` (which averages a dense
// tensor in place across them: a collective every replica reaches). Every replica's
// loss depends on every replica's x, so the gradient is the same average of the
// incoming gradients. What synchronised batch statistics are made of.
Tensor replica_average(const Tensor& x, const std::function<void(Tensor&)>& average);
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);  // gradient to the first maximum

// ---- products ---------------------------------------------------------------------------
Tensor matmul(const Tensor& a, const Tensor& b);  // batched on leading dims, broadcasting
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);  // x W^T + b; bias optional
// NCHW, stride 1, zero padding; bias [O] optional.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t padding);

// ---- normalisation and attention -------------------------------------------------------
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps = 1e-5);
Tensor softmax(const Tensor& x, int64_t dim = -1);
// (x + shift[c]) * exp(log_scale[c]) over x [N, C, ...], fused (Glow's ActNorm);
// shift and log_scale hold C values in any shape ([C] or [1, C, 1, 1]).
Tensor channel_affine(const Tensor& x, const Tensor& shift, const Tensor& log_scale);
Tensor log_softmax(const Tensor& x, int64_t dim = -1);
// q, k, v [B, H, T, D]; token i attends to tokens <= i. scale defaults to 1/sqrt(D).
Tensor causal_attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale = 0.0);
// The same on a packed projection qkv [B, T, 3, H, D] (q, k, v on dim 2, as one
// [B, T, 3 H D] linear lays them out), returning [B, H, T, D]: the kernels read the
// three in place, and the backward writes one packed gradient.
Tensor causal_attention_packed(const Tensor& qkv, double scale = 0.0);

// ---- shape and indexing -------------------------------------------------------------------
Tensor concat(const std::vector<Tensor>& tensors, int64_t dim);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim);
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim);
Tensor flip(const Tensor& x, int64_t dim);
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// [N, C, H, W] -> [N, C*f*f, H/f, W/f], channel order (c, dy, dx) as in openai/glow.
Tensor space_to_depth(const Tensor& x, int64_t factor);
Tensor depth_to_space(const Tensor& x, int64_t factor);

// ---- small linear algebra (differentiable) ---------------------------------------------------
// log|det A| of a square matrix (f64 inside); the sign through *sign when given.
Tensor logabsdet(const Tensor& a, double* sign = nullptr);
Tensor inverse(const Tensor& a);
// X with A X = B, A lower or upper triangular.
Tensor triangular_solve(const Tensor& a, const Tensor& b, bool lower, bool unit_diagonal = false);

}  // namespace ft
