#include "framework/kernels/cpu/matmul_onednn.h"

#include "framework/kernels/cpu/onednn.h"
#include "framework/kernels/kernel_shapes.h"
#include "framework/kernels/kernels.h"

namespace ft::kernels {

namespace {

using dnnl::memory;

// An operand of the product as oneDNN sees it: batch dims (1 where broadcast),
// then the logical [rows, cols] of op(t), with t's strides, so transposes and
// strided views cost no copy. `storage` is t, or a dense copy where the shared
// GEMM layout plan (kernel_shapes.h) asks for one, as for OpenBLAS.
struct MatmulOperand {
  Tensor storage;
  memory::desc desc;
};

MatmulOperand operand_of(const Tensor& t, const Shape& expanded, bool transpose) {
  Tensor e = t.detach().expand(expanded);
  const size_t rank = expanded.size();
  if (plan_gemm_operand(e, transpose).needs_dense_copy) e = copy(e);
  memory::dims dims(rank), strides(rank);
  for (size_t d = 0; d + 2 < rank; ++d) {
    const bool broadcast = e.strides()[d] == 0;
    dims[d] = broadcast ? 1 : expanded[d];
    strides[d] = broadcast ? 0 : e.strides()[d];
  }
  const size_t r = rank - 2, c = rank - 1;
  dims[r] = transpose ? expanded[c] : expanded[r];
  dims[c] = transpose ? expanded[r] : expanded[c];
  strides[r] = transpose ? e.strides()[c] : e.strides()[r];
  strides[c] = transpose ? e.strides()[r] : e.strides()[c];
  return {e, memory::desc(dims, onednn::data_type_of(t.dtype()), strides)};
}

}  // namespace

bool onednn_matmul_supports(const Tensor& a, const Tensor& b) {
  const DType d = a.dtype();
  return d == b.dtype() && (d == DType::f32 || (d == DType::bf16 && onednn::has_bf16_kernels()));
}

Tensor onednn_matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b) {
  return onednn::checked("matmul", [&] {
    const MatmulShape s = plan_matmul(a, b, transpose_a, transpose_b);
    Tensor out = Tensor::empty(s.out, DType::f32, a.device());
    if (out.numel() == 0) return out;
    if (s.k == 0) {
      out.fill_(0.0);
      return out;
    }
    MatmulOperand src = operand_of(a, s.a_full, transpose_a), weights = operand_of(b, s.b_full, transpose_b);
    const memory::desc dst_desc(onednn::dims_of(s.out), memory::data_type::f32, onednn::dims_of(out.strides()));
    dnnl::matmul::desc desc(src.desc, weights.desc, dst_desc);
    dnnl::matmul::primitive_desc plan(desc, onednn::user_scratchpad(), onednn::engine());
    Tensor scratch;
    dnnl::stream stream(onednn::engine());
    dnnl::matmul(plan).execute(
        stream, {{DNNL_ARG_SRC, memory(src.desc, onednn::engine(), src.storage.raw_data())},
                 {DNNL_ARG_WEIGHTS, memory(weights.desc, onednn::engine(), weights.storage.raw_data())},
                 {DNNL_ARG_DST, memory(dst_desc, onednn::engine(), out.raw_data())},
                 {DNNL_ARG_SCRATCHPAD, onednn::scratch_memory(plan.scratchpad_desc(), scratch)}});
    stream.wait();
    return out;
  });
}

}  // namespace ft::kernels
