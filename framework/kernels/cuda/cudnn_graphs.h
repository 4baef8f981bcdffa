// Fused kernels as cuDNN graphs, built with NVIDIA's cudnn-frontend, which only
// cudnn_graphs.cpp includes (its headers are heavy): causal scaled-dot-product
// attention for bf16/f16 q, k, v and layer norm in f32. Plain C++ here. Built
// graphs are cached per shape, dtype, constants and device.
#pragma once
#include <cstdint>

#include "framework/core/tensor.h"

namespace ft::kernels::cuda {

struct AttentionShape {
  int64_t batch, heads, tokens, head_dim;  // q, k, v are [batch, heads, tokens, head_dim]
};

// The contract of kernels::causal_attention(_backward) (kernels.h) for bf16 or f16
// q, k, v [B, H, T, D] on one GPU: f32 output, f32 logsumexp [B, H, T] (natural log
// of the sum of exp of the scaled causal scores, as the CPU saves) and f32 gradients.
Tensor cudnn_causal_attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale, Tensor* logsumexp);
void cudnn_causal_attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                                     const Tensor& logsumexp, const Tensor& grad_out, double scale, Tensor* grad_q,
                                     Tensor* grad_k, Tensor* grad_v);

// The contract of kernels::layer_norm(_backward) for f32 x [rows, C] on one GPU,
// weight and bias [C] both given or both undefined; mean and rstd f32 [rows].
Tensor cudnn_layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, Tensor* mean,
                        Tensor* rstd);
void cudnn_layer_norm_backward(const Tensor& grad_y, const Tensor& x, const Tensor& weight, const Tensor& mean,
                               const Tensor& rstd, Tensor* grad_x, Tensor* grad_weight, Tensor* grad_bias);

// Without a device: the frontend's checks of the attention forward and backward
// graphs (bf16 or f16, scale 1/sqrt(D)) and of the layer-norm pair (f32 [rows,
// width], affine) for a GPU of compute capability sm_version (90: H100/H200).
// Throws ft::Error naming the graph and the frontend's reason when one is invalid.
// Stops before lowering to the cuDNN backend, which needs a device (see the .cpp).
void validate_attention_graphs(const AttentionShape& shape, DType dtype, int sm_version);
void validate_layer_norm_graphs(int64_t rows, int64_t width, int sm_version);

}  // namespace ft::kernels::cuda
