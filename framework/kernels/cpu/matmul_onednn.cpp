#include "framework/kernels/cpu/matmul_onednn.h"

#include <unordered_map>

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

// The bias as oneDNN's matmul takes it: of the destination's rank, 1 on every dim but the last.
memory::desc bias_desc_of(const Tensor& bias, size_t rank) {
  memory::dims dims(rank, 1), strides(rank, bias.size(0));
  dims.back() = bias.size(0);
  strides.back() = 1;
  return memory::desc(dims, memory::data_type::f32, strides);
}

}  // namespace

bool onednn_matmul_supports(const Tensor& a, const Tensor& b) {
  const DType d = a.dtype();
  return d == b.dtype() && (d == DType::f32 || (d == DType::bf16 && onednn::has_bf16_kernels()));
}

Tensor onednn_matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b, const Tensor& bias,
                     DType out_dtype) {
  FT_CHECK(out_dtype == DType::f32 || (out_dtype == DType::bf16 && a.dtype() == DType::bf16),
           "oneDNN matmul of {} into {}", dtype_name(a.dtype()), dtype_name(out_dtype));
  return onednn::checked("matmul", [&] {
    const MatmulShape s = plan_matmul(a, b, transpose_a, transpose_b);
    Tensor out = Tensor::empty(s.out, out_dtype, a.device());
    if (out.numel() == 0) return out;
    if (s.k == 0) {
      out.fill_(0.0);
      if (bias.defined()) add_inplace(out, bias, 1.0);
      return out;
    }
    MatmulOperand src = operand_of(a, s.a_full, transpose_a), weights = operand_of(b, s.b_full, transpose_b);
    const memory::desc dst_desc(onednn::dims_of(s.out), onednn::data_type_of(out_dtype),
                                onednn::dims_of(out.strides()));
    const Tensor bias_f32 = bias.defined() ? cast(bias, DType::f32) : bias;
    const memory::desc bias_desc = bias.defined() ? bias_desc_of(bias_f32, s.out.size()) : memory::desc();
    dnnl::matmul::desc desc = bias.defined() ? dnnl::matmul::desc(src.desc, weights.desc, bias_desc, dst_desc)
                                             : dnnl::matmul::desc(src.desc, weights.desc, dst_desc);
    dnnl::matmul::primitive_desc plan(desc, onednn::user_scratchpad(), onednn::engine());
    Tensor scratch;
    dnnl::stream stream(onednn::engine());
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, memory(src.desc, onednn::engine(), src.storage.raw_data())},
        {DNNL_ARG_WEIGHTS, memory(weights.desc, onednn::engine(), weights.storage.raw_data())},
        {DNNL_ARG_DST, memory(dst_desc, onednn::engine(), out.raw_data())},
        {DNNL_ARG_SCRATCHPAD, onednn::scratch_memory(plan.scratchpad_desc(), scratch)}};
    if (bias.defined()) args[DNNL_ARG_BIAS] = memory(bias_desc, onednn::engine(), bias_f32.raw_data());
    dnnl::matmul(plan).execute(stream, args);
    stream.wait();
    return out;
  });
}

}  // namespace ft::kernels
