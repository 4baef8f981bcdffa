// The CUDA backend's kernels. Plain C++ (no CUDA types), so tests can call them
// directly; everything else reaches them through the kernel table (dispatch.h),
// where cuda::register_kernels (register_cuda.cpp) enters them, each kernel file
// through its own register_* function. Defined only in builds with
// FLOWTRAIN_HAVE_CUDA. Every function runs on the inputs' device, makes that
// device current, and returns dense outputs on it.
#pragma once
#include <vector>

#include "framework/core/tensor.h"
#include "framework/kernels/functors.h"

namespace ft::kernels {
struct KernelTable;
}

namespace ft::kernels::cuda {

// ---- copy_cuda.cu ---------------------------------------------------------------
// kernels::copy_into / kernels::fill when a tensor is on a GPU. Either side of a
// copy may be on the host; src broadcasts to dst's shape; dtypes convert (bf16/f16
// through float, as on the CPU).
void copy_into(Tensor& dst, const Tensor& src);
void fill(Tensor& dst, double value);
void register_copy(KernelTable& table);

// ---- elementwise_cuda.cu --------------------------------------------------------
// f32 or f64, any strides; the same functors as the CPU backend.
Tensor unary(UnaryOp op, const Tensor& x, double p = 0.0);
// x or y may be undefined when op's derivative does not read them.
Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& grad, double p = 0.0);
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);  // broadcasting
void add_inplace(Tensor& dst, const Tensor& src, double alpha);  // dst += alpha*src, src broadcast
Tensor scale_shift(const Tensor& x, double scale, double shift);
void register_elementwise(KernelTable& table);

// ---- reduce_cuda.cu --------------------------------------------------------------
// Sum over the last dim, accumulated in f64; f32 or f64.
Tensor sum_last_dim(const Tensor& x, bool keepdim = false);
// kernels::sum: any dims, through sum_last_dim.
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim);
// Max along one dim, any strides; the first index of the maximum (a NaN's when
// there is one), as on the CPU.
Tensor max(const Tensor& x, int64_t dim, bool keepdim, Tensor* indices);
void register_reduce(KernelTable& table);

// ---- matmul_cublaslt.cpp ---------------------------------------------------------
// C[b] = op(A[b]) @ op(B[b]) on the last two dims, batch dims broadcasting.
// f32 (exact fp32, no TF32) and f64; bf16 and f16 inputs accumulate in fp32 and
// return f32, as kernels::matmul promises.
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a = false, bool transpose_b = false);
// kernels::linear: x [..., in] @ weight [out, in]^T + bias [out] (undefined: none),
// the bias added in the GEMM's epilogue (f64: through C).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);
void register_matmul(KernelTable& table);

// ---- norm_cuda.cu -----------------------------------------------------------------
// Over the last dim, f32 or f64, one block per row, f64 sums where the CPU has
// them. Parameter gradients reduce over rows in two fixed-order stages: repeatable
// to the bit.
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, Tensor* mean,
                  Tensor* rstd);
void layer_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& rstd, Tensor* grad_x, Tensor* grad_weight, Tensor* grad_bias);
Tensor softmax(const Tensor& x);
Tensor softmax_backward(const Tensor& y, const Tensor& grad_y);
void register_norm(KernelTable& table);

// ---- channel_affine_cuda.cu ----------------------------------------------------------
// Glow's ActNorm over x [N, C, ...], f32 or f64; exp(log_scale) by the unary exp
// kernel; per-channel gradients in f64, two fixed-order stages.
Tensor channel_affine(const Tensor& x, const Tensor& shift, const Tensor& log_scale);
void channel_affine_backward(const Tensor& grad_y, const Tensor& y, const Tensor& log_scale, Tensor* grad_x,
                             Tensor* grad_shift, Tensor* grad_log_scale);
void register_channel_affine(KernelTable& table);

// ---- index_cuda.cu -------------------------------------------------------------------
// Indices (i64 or i32, on the device) are checked there; one out of range is an
// ft::Error naming it. index_select takes every dtype; index_add f32/f64, each
// output slice summing its sources in index order (bit-identical to the CPU).
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor index_add(const Shape& shape, int64_t dim, const Tensor& index, const Tensor& src);
void register_index(KernelTable& table);

// ---- linalg_cuda.cpp -----------------------------------------------------------------
// The small dense linear algebra of kernels.h on the host's f64 kernels.
void register_linalg(KernelTable& table);

// ---- conv_cudnn.cpp --------------------------------------------------------------
// kernels::conv2d / conv2d_backward (NCHW, stride 1, zero padding): f32 and f64
// outputs and gradients; bf16/f16 inputs computed on their exact f32 values.
Tensor conv2d(const Tensor& x, const Tensor& weight, int64_t padding);
void conv2d_backward(const Tensor& x, const Tensor& weight, const Tensor& grad_y, int64_t padding, Tensor* grad_x,
                     Tensor* grad_weight);
void register_conv(KernelTable& table);

// ---- attention_cuda.cu ------------------------------------------------------------
// kernels::causal_attention, causal_attention_backward and cached_attention in f32
// or f64: batched GEMMs and a masked softmax that also writes the log-sum-exp.
Tensor causal_attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale, Tensor* logsumexp);
void causal_attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                               const Tensor& logsumexp, const Tensor& grad_out, double scale, Tensor* grad_q,
                               Tensor* grad_k, Tensor* grad_v);
Tensor cached_attention(const Tensor& q, const Tensor& k_cache, const Tensor& v_cache, int64_t past, double scale);
void register_attention(KernelTable& table);

// ---- optimizer_cuda.cu -----------------------------------------------------------
// kernels::optimizer_update, ema_update, scale_inplace and squared_norm on flat f32/f64
// ranges: the CPU's element math (optimizer_functors.h), bit for bit.
void register_optimizer(KernelTable& table);

// ---- register_cuda.cpp -----------------------------------------------------------
// Waits for every queued kernel on cuda:index (timings, tests).
void synchronize(int device_index);

}  // namespace ft::kernels::cuda
