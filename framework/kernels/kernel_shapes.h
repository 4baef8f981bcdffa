// Checks and shape arithmetic shared by the CPU and CUDA kernels, so both backends
// accept exactly the same inputs and name the same problems.
#pragma once
#include <array>

#include "framework/core/tensor.h"

namespace ft::kernels {

// N strided operands of one logical shape with size-1 dims dropped and the dims
// that are contiguous in every operand merged: dense tensors become one flat dim.
template <size_t N>
struct StridedLayout {
  Shape sizes;                     // merged sizes, innermost last
  std::array<Strides, N> strides;  // per operand, in elements
};

template <size_t N>
StridedLayout<N> merge_dims(const Shape& shape, const std::array<Strides, N>& strides) {
  StridedLayout<N> out;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool mergeable = !out.sizes.empty();
    for (size_t k = 0; k < N && mergeable; ++k)
      mergeable = out.strides[k].back() == strides[k][d] * shape[d];
    if (mergeable) {
      out.sizes.back() *= shape[d];
      for (size_t k = 0; k < N; ++k) out.strides[k].back() = strides[k][d];
    } else {
      out.sizes.push_back(shape[d]);
      for (size_t k = 0; k < N; ++k) out.strides[k].push_back(strides[k][d]);
    }
  }
  if (out.sizes.empty()) {
    out.sizes.push_back(1);
    for (size_t k = 0; k < N; ++k) out.strides[k].push_back(0);
  }
  return out;
}

// C[b] = op(A[b]) @ op(B[b]): sizes of one product and the broadcast batch.
struct MatmulShape {
  int64_t m = 0, k = 0, n = 0;
  Shape batch;           // broadcast of both operands' batch dims
  Shape a_full, b_full;  // each operand expanded to the batch
  Shape out;             // batch + [m, n]
};

// Throws naming both shapes when an operand is not a matrix or the inner sizes differ.
MatmulShape plan_matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b);

// How a row-major GEMM (BLAS, or cuBLAS through the transpose identity) reads the
// last two dims of t, used as op(t) with op = transpose or not: unit stride on one
// of them with leading dimension ld; transposed when the unit stride is along the
// rows. When neither dim has unit stride, the caller copies t densely and reads
// it as the layout says.
struct GemmLayout {
  bool needs_dense_copy = false;
  bool transposed = false;
  int64_t ld = 0;
};
GemmLayout plan_gemm_operand(const Tensor& t, bool transpose);

// y = x @ weight^T + bias as one product of [rows, in] by [out, in]^T.
struct LinearShape {
  int64_t rows = 0, in = 0, out = 0;
  Shape y;  // x's shape with the last dim out
};

// Throws naming the shapes when weight is not [out, in] for x [..., in] or bias
// (when defined) is not [out].
LinearShape plan_linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

// conv2d's sizes: x [n, c, h, w], weight [o, c, kh, kw], output [n, o, ho, wo].
struct ConvGeometry {
  int64_t n, c, h, w, o, kh, kw, pad, ho, wo;
};

// Throws naming the shapes when they are not 4-d, the channels differ or the
// kernel does not fit the padded input.
ConvGeometry plan_conv2d(const Shape& x, const Shape& weight, int64_t padding);

// channel_affine's x [N, C, ...] as [batch, channels, plane]; f32 or f64, with
// log_scale of C values in x's dtype, else a throw naming `what` and the sizes.
struct ChannelLayout {
  int64_t batch, channels, plane;
};
ChannelLayout plan_channel_affine(const Tensor& x, const Tensor& log_scale, const char* what);

// causal_attention's q, k, v: [B, H, T, D] alike with unit stride on D (heads-first views
// of a packed projection, say); the inputs check adds f32 or f64.
void check_attention_shapes(const Tensor& q, const Tensor& k, const Tensor& v);
void check_attention_inputs(const Tensor& q, const Tensor& k, const Tensor& v);
// cached_attention's queries [B, H, Tq, D] and contiguous KV cache [B, H, >= past+Tq, D].
void check_cached_attention_inputs(const Tensor& q, const Tensor& k_cache, const Tensor& v_cache, int64_t past);

inline void check_float(const Tensor& t, const char* what) {
  FT_CHECK(t.dtype() == DType::f32 || t.dtype() == DType::f64, "{} needs f32 or f64, got {}", what,
           dtype_name(t.dtype()));
}

template <class T>
T* typed(const Tensor& t) {
  return static_cast<T*>(t.raw_data());
}

}  // namespace ft::kernels
