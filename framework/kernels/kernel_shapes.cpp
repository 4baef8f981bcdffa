#include "framework/kernels/kernel_shapes.h"

#include <algorithm>

namespace ft::kernels {

MatmulShape plan_matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b) {
  FT_CHECK(a.dim() >= 2 && b.dim() >= 2, "matmul needs matrices, got {} and {}", shape_str(a.shape()),
           shape_str(b.shape()));
  MatmulShape s;
  s.m = transpose_a ? a.size(-1) : a.size(-2);
  s.k = transpose_a ? a.size(-2) : a.size(-1);
  int64_t kb = transpose_b ? b.size(-1) : b.size(-2);
  s.n = transpose_b ? b.size(-2) : b.size(-1);
  FT_CHECK(s.k == kb, "matmul inner sizes differ: {}{} @ {}{}", shape_str(a.shape()), transpose_a ? "^T" : "",
           shape_str(b.shape()), transpose_b ? "^T" : "");
  s.batch = broadcast_shapes(Shape(a.shape().begin(), a.shape().end() - 2), Shape(b.shape().begin(), b.shape().end() - 2));
  s.a_full = s.b_full = s.out = s.batch;
  s.a_full.insert(s.a_full.end(), a.shape().end() - 2, a.shape().end());
  s.b_full.insert(s.b_full.end(), b.shape().end() - 2, b.shape().end());
  s.out.push_back(s.m);
  s.out.push_back(s.n);
  return s;
}

GemmLayout plan_gemm_operand(const Tensor& t, bool transpose) {
  const int64_t rows = t.size(-2), cols = t.size(-1);
  const int64_t rs = t.strides()[t.strides().size() - 2], cs = t.strides().back();
  if (cs == 1 && (rs >= std::max<int64_t>(cols, 1) || rows == 1)) return {false, transpose, std::max<int64_t>(rs, cols)};
  if (rs == 1 && (cs >= std::max<int64_t>(rows, 1) || cols == 1)) return {false, !transpose, std::max<int64_t>(cs, rows)};
  return {true, transpose, std::max<int64_t>(cols, 1)};
}

LinearShape plan_linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  FT_CHECK(weight.dim() == 2 && x.dim() >= 1 && x.size(-1) == weight.size(1),
           "linear: input {} does not match weight {} ([out, in])", shape_str(x.shape()), shape_str(weight.shape()));
  LinearShape s;
  s.in = weight.size(1);
  s.out = weight.size(0);
  FT_CHECK(!bias.defined() || bias.shape() == Shape{s.out}, "linear bias {} for {} outputs", shape_str(bias.shape()),
           s.out);
  s.rows = numel_of(Shape(x.shape().begin(), x.shape().end() - 1));
  s.y = x.shape();
  s.y.back() = s.out;
  return s;
}

ChannelLayout plan_channel_affine(const Tensor& x, const Tensor& log_scale, const char* what) {
  FT_CHECK(x.dim() >= 2, "{} needs x [N, C, ...], got {}", what, shape_str(x.shape()));
  check_float(x, what);
  const int64_t c = x.size(1);
  FT_CHECK(log_scale.numel() == c && log_scale.dtype() == x.dtype(), "{}: {} parameters of {} for {} channels of {}",
           what, log_scale.numel(), dtype_name(log_scale.dtype()), c, dtype_name(x.dtype()));
  const int64_t batch = x.size(0);
  return {batch, c, batch * c == 0 ? 0 : x.numel() / (batch * c)};
}

ConvGeometry plan_conv2d(const Shape& x, const Shape& weight, int64_t padding) {
  FT_CHECK(x.size() == 4 && weight.size() == 4, "conv2d needs x [N,C,H,W] and weight [O,C,kh,kw], got {} and {}",
           shape_str(x), shape_str(weight));
  FT_CHECK(x[1] == weight[1], "conv2d input has {} channels but the weight expects {}", x[1], weight[1]);
  ConvGeometry g{x[0], x[1], x[2], x[3], weight[0], weight[2], weight[3], padding, 0, 0};
  g.ho = g.h + 2 * padding - g.kh + 1;
  g.wo = g.w + 2 * padding - g.kw + 1;
  FT_CHECK(g.ho > 0 && g.wo > 0, "conv2d kernel {}x{} with padding {} does not fit a {}x{} input", g.kh, g.kw,
           padding, g.h, g.w);
  return g;
}

void check_attention_shapes(const Tensor& q, const Tensor& k, const Tensor& v) {
  FT_CHECK(q.dim() == 4, "attention needs q [B,H,T,D], got {}", shape_str(q.shape()));
  FT_CHECK(q.shape() == k.shape() && q.shape() == v.shape(), "attention q {}, k {}, v {} differ",
           shape_str(q.shape()), shape_str(k.shape()), shape_str(v.shape()));
  FT_CHECK(q.strides()[3] == 1 && k.strides()[3] == 1 && v.strides()[3] == 1,
           "attention needs q, k, v with unit stride on D, got strides {}, {}, {}", shape_str(q.strides()),
           shape_str(k.strides()), shape_str(v.strides()));
}

void check_attention_inputs(const Tensor& q, const Tensor& k, const Tensor& v) {
  check_attention_shapes(q, k, v);
  FT_CHECK(q.dtype() == DType::f32 || q.dtype() == DType::f64, "attention needs f32 or f64, got {}",
           dtype_name(q.dtype()));
}

void check_cached_attention_inputs(const Tensor& q, const Tensor& k_cache, const Tensor& v_cache, int64_t past) {
  FT_CHECK(q.dim() == 4 && k_cache.dim() == 4 && v_cache.dim() == 4, "cached attention needs 4-d q, k, v");
  const int64_t b = q.size(0), h = q.size(1), tq = q.size(2), d = q.size(3);
  FT_CHECK(k_cache.size(0) == b && k_cache.size(1) == h && k_cache.size(3) == d && k_cache.shape() == v_cache.shape(),
           "KV cache {} does not match queries {}", shape_str(k_cache.shape()), shape_str(q.shape()));
  FT_CHECK(past + tq <= k_cache.size(2), "KV cache of {} positions cannot hold {} + {} tokens", k_cache.size(2),
           past, tq);
  FT_CHECK(k_cache.is_contiguous() && v_cache.is_contiguous(), "KV cache must be contiguous");
}

}  // namespace ft::kernels
