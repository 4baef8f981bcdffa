#include "framework/kernels/kernel_shapes.h"

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

}  // namespace ft::kernels
