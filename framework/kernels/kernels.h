// Compute kernels: raw math on tensors, no autograd and no autocast. Floating
// math runs in f32 or f64; ops cast other floating types before calling. Each
// entry point runs the kernel that its inputs' device registered in the kernel
// table (dispatch.h) for its dtype; inputs on two devices are an error.
#pragma once
#include <vector>

#include "framework/core/tensor.h"
#include "framework/kernels/functors.h"
#include "framework/kernels/optimizer_functors.h"

namespace ft::kernels {

// ---- copies and fills ---------------------------------------------------------
Tensor copy(const Tensor& x);                         // dense copy, same dtype
void copy_into(Tensor& dst, const Tensor& src);       // strided, broadcasting, converting dtype
Tensor cast(const Tensor& x, DType dtype);            // dense copy in dtype
// bf16/f16 tensors as f32 (the CPU computes low-precision inputs in f32); others as they are.
Tensor upcast_half(const Tensor& x);
void fill(Tensor& dst, double value);

// ---- element-wise -------------------------------------------------------------
Tensor unary(UnaryOp op, const Tensor& x, double p = 0.0);
Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& grad, double p = 0.0);
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);  // broadcasting
inline Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::add, a, b); }
void add_inplace(Tensor& dst, const Tensor& src, double alpha);  // dst += alpha*src (src broadcast)
Tensor scale_shift(const Tensor& x, double scale, double shift);  // x*scale + shift

// ---- reductions ------------------------------------------------------------------
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim);
Tensor sum_to(const Tensor& x, const Shape& shape);  // inverse of broadcasting to x's shape
// Max along one dim; indices (i64, same shape as values) when requested.
Tensor max(const Tensor& x, int64_t dim, bool keepdim, Tensor* indices);
double sum_all(const Tensor& x);  // accumulated in f64

// ---- matrix products ------------------------------------------------------------
// C[b] = A[b] @ B[b] on the last two dims (transposed when ta/tb); batch dims of A
// and B broadcast. f32 or f64; bf16/f16 inputs are computed and returned in f32.
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a = false, bool transpose_b = false);
// y = x @ weight^T + bias for x [..., in], weight [out, in], bias [out] or undefined:
// y is [..., out], dtypes as for matmul (f32 for bf16/f16 inputs). Backends may add
// the bias inside the GEMM: the f32/f64 accumulator plus the bias, rounded once,
// which are the numbers of matmul followed by an add.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

// ---- convolution (NCHW, stride 1, zero padding) --------------------------------------
// f32 outputs and gradients whatever the inputs' dtype. With bf16 x and weight the
// backward takes grad_y rounded to bf16, as under PyTorch's autocast (matmul leaves
// that rounding to its caller, framework/ops/product_ops.cpp).
Tensor conv2d(const Tensor& x, const Tensor& weight, int64_t padding);
void conv2d_backward(const Tensor& x, const Tensor& weight, const Tensor& grad_y, int64_t padding,
                     Tensor* grad_x, Tensor* grad_weight);

// ---- normalisation ---------------------------------------------------------------
// Over the last dim. mean and rstd are f32/f64 [rows] saved for backward.
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, Tensor* mean,
                  Tensor* rstd);
void layer_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& rstd, Tensor* grad_x, Tensor* grad_weight, Tensor* grad_bias);
Tensor softmax(const Tensor& x);  // over the last dim
Tensor softmax_backward(const Tensor& y, const Tensor& grad_y);

// ---- per-channel affine (Glow's ActNorm) ------------------------------------------
// y = (x + shift[c]) * exp(log_scale[c]) over x [N, C, ...], one pass; shift and
// log_scale [C], exp as the unary kernel computes it.
Tensor channel_affine(const Tensor& x, const Tensor& shift, const Tensor& log_scale);
// From y (the output) and grad_y in one pass: grad_x = grad_y * exp(log_scale),
// grad_shift[c] = sum of grad_x over channel c, grad_log_scale[c] = sum of grad_y * y.
void channel_affine_backward(const Tensor& grad_y, const Tensor& y, const Tensor& log_scale, Tensor* grad_x,
                             Tensor* grad_shift, Tensor* grad_log_scale);

// ---- causal attention ---------------------------------------------------------------
// q, k, v: [B, H, T, D] with unit stride on D (heads-first views of a packed
// projection are read in place on the CPU). Token i attends to tokens 0..i. logsumexp
// [B, H, T] is saved for backward, which recomputes the probabilities. The output and
// the gradients are in q's dtype: bf16/f16 inputs get bf16/f16 results, as from
// cuDNN's fused attention and PyTorch's autocast.
Tensor causal_attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale, Tensor* logsumexp);
void causal_attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                               const Tensor& logsumexp, const Tensor& grad_out, double scale,
                               Tensor* grad_q, Tensor* grad_k, Tensor* grad_v);
// Attention of new queries [B, H, Tq, D] at positions past..past+Tq-1 over keys and
// values [B, H, >= past+Tq, D] (a KV cache); causal within the new tokens.
Tensor cached_attention(const Tensor& q, const Tensor& k_cache, const Tensor& v_cache, int64_t past,
                        double scale);

// ---- indexing ------------------------------------------------------------------------
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);  // index: i64 [n]
// out = zeros(shape); out.index_add(dim, index, src)
Tensor index_add(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& src);

// ---- small dense linear algebra (f64 inside) ---------------------------------------------
// LU with partial pivoting of a square [n, n] matrix: sign and log|det|.
void slogdet(const Tensor& a, double* sign, double* logabsdet);
Tensor inverse(const Tensor& a);
// Solves A X = B with A triangular [n, n] (lower or upper; unit diagonal optional).
Tensor triangular_solve(const Tensor& a, const Tensor& b, bool lower, bool unit_diagonal);
// Q of the QR decomposition of a square matrix (Householder), in a's dtype.
Tensor qr_orthogonal(const Tensor& a);
// A = P L U with P a permutation matrix, L unit lower triangular, U upper (partial pivoting).
struct LUFactors {
  Tensor p, l, u;
};
LUFactors lu_decompose(const Tensor& a);

// ---- optimizer updates over flat ranges (optimizer_functors.h) ---------------------------
// Every tensor is contiguous, f32 or f64, of one dtype, one element count and on one
// device: the optimizer's range of the parameter and gradient arenas and its state.
// One step of rule in place: params, first (exp_avg) and second (exp_avg_sq or exp_inf).
void optimizer_update(OptimizerRule rule, const OptimizerScalars& scalars, Tensor& params, const Tensor& grads,
                      Tensor& first, Tensor& second);
void ema_update(Tensor& shadow, const Tensor& params, double decay);  // shadow = decay*shadow + (1-decay)*params
void scale_inplace(Tensor& x, double factor);                         // x = x*factor, in f64, rounded once
// Sum of squares in f64 over fixed blocks (kSquaredNormBlock) added in order: the same
// on every thread count. For f32 it is non-finite exactly when an element is (an f32
// squared cannot overflow f64), so the trainer finds overflowed gradients in this pass.
double squared_norm(const Tensor& x);

}  // namespace ft::kernels
