// Convolution through oneDNN for f32 and bf16 (AMX or AVX-512 kernels, chosen by
// oneDNN from the CPU at run time). Same contract as kernels::conv2d: NCHW,
// stride 1, zero padding, f32 outputs and gradients. conv_cpu.cpp routes here.
#pragma once
#include "framework/core/tensor.h"

namespace ft::kernels {

// x and weight of one dtype, f32 or bf16.
bool onednn_conv2d_supports(const Tensor& x, const Tensor& weight);
Tensor onednn_conv2d(const Tensor& x, const Tensor& weight, int64_t padding);
// bf16 inputs take grad_y rounded to bf16, as under PyTorch's autocast.
void onednn_conv2d_backward(const Tensor& x, const Tensor& weight, const Tensor& grad_y, int64_t padding,
                            Tensor* grad_x, Tensor* grad_weight);

}  // namespace ft::kernels
