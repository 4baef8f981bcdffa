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
void register_elementwise(KernelTable& table);

// ---- reduce_cuda.cu --------------------------------------------------------------
// Sum over the last dim, accumulated in f64; f32 or f64.
Tensor sum_last_dim(const Tensor& x, bool keepdim = false);
// kernels::sum: any dims, through sum_last_dim.
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim);
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

// ---- register_cuda.cpp -----------------------------------------------------------
// Waits for every queued kernel on cuda:index (timings, tests).
void synchronize(int device_index);

}  // namespace ft::kernels::cuda
