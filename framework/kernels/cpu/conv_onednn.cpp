// Convolution through oneDNN. Tensors stay NCHW between ops; each call lets oneDNN
// pick its own blocked layouts and reorders at the edges. Measured on glow-bench
// (1 thread): plain NCHW makes oneDNN fall back to its im2col GEMM, 1.5x slower
// than blocked kernels with the reorders.
#include "framework/kernels/cpu/conv_onednn.h"

#include <unordered_map>
#include <vector>

#include "framework/kernels/cpu/onednn.h"
#include "framework/kernels/kernels.h"

namespace ft::kernels {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;

// The problem in oneDNN's terms, layouts left to oneDNN ("any"). The output and
// the gradients of x and weight are f32 whatever the inputs' dtype.
struct ConvProblem {
  memory::desc src, weights, dst, grad_dst;
  memory::desc grad_src, grad_weights;
  memory::dims strides, padding;
};

ConvProblem problem_of(const Tensor& x, const Tensor& weight, int64_t padding) {
  const auto dt = onednn::data_type_of(x.dtype());
  const auto f32 = memory::data_type::f32;
  const int64_t ho = x.size(2) + 2 * padding - weight.size(2) + 1, wo = x.size(3) + 2 * padding - weight.size(3) + 1;
  const memory::dims x_dims = onednn::dims_of(x.shape()), w_dims = onednn::dims_of(weight.shape());
  const memory::dims y_dims{x.size(0), weight.size(0), ho, wo};
  ConvProblem p;
  p.src = memory::desc(x_dims, dt, Tag::any);
  p.weights = memory::desc(w_dims, dt, Tag::any);
  p.dst = memory::desc(y_dims, f32, Tag::any);
  p.grad_dst = memory::desc(y_dims, dt, Tag::any);
  p.grad_src = memory::desc(x_dims, f32, Tag::any);
  p.grad_weights = memory::desc(w_dims, f32, Tag::any);
  p.strides = {1, 1};
  p.padding = {padding, padding};
  return p;
}

dnnl::convolution_forward::primitive_desc forward_plan(const ConvProblem& p) {
  dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, p.src,
                                       p.weights, p.dst, p.strides, p.padding, p.padding);
  return {desc, onednn::user_scratchpad(), onednn::engine()};
}

// One call's stream and the buffers that must outlive its primitives.
struct Execution {
  dnnl::stream stream{onednn::engine()};
  std::vector<Tensor> buffers;

  Tensor& buffer() { return buffers.emplace_back(); }
  memory in_layout(const memory& source, const memory::desc& wanted) {
    return onednn::in_layout(source, wanted, buffer(), stream);
  }
  memory result(const memory& plain, const memory::desc& chosen) {
    return onednn::result_memory(plain, chosen, buffer());
  }
  template <class Primitive>
  void run(const typename Primitive::primitive_desc& plan, std::unordered_map<int, memory> args) {
    args[DNNL_ARG_SCRATCHPAD] = onednn::scratch_memory(plan.scratchpad_desc(), buffer());
    Primitive(plan).execute(stream, args);
  }
};

Tensor dense(const Tensor& t) { return t.is_contiguous() ? t : copy(t); }

Tensor empty_output(const memory::desc& desc, const Tensor& like) {
  const memory::dims& d = desc.dims();
  return Tensor::empty(Shape(d.begin(), d.end()), DType::f32, like.device());
}

}  // namespace

bool onednn_conv2d_supports(const Tensor& x, const Tensor& weight) {
  const DType d = x.dtype();
  return d == weight.dtype() && (d == DType::f32 || (d == DType::bf16 && onednn::has_bf16_kernels()));
}

Tensor onednn_conv2d(const Tensor& x_in, const Tensor& weight_in, int64_t padding) {
  return onednn::checked("conv2d", [&] {
    Tensor x = dense(x_in), weight = dense(weight_in.detach());
    const ConvProblem p = problem_of(x, weight, padding);
    const auto plan = forward_plan(p);
    Execution ex;
    Tensor y = empty_output(p.dst, x);
    memory y_plain = onednn::plain_memory(y, Tag::nchw);
    memory dst = ex.result(y_plain, plan.dst_desc());
    ex.run<dnnl::convolution_forward>(plan, {{DNNL_ARG_SRC, ex.in_layout(onednn::plain_memory(x, Tag::nchw), plan.src_desc())},
                  {DNNL_ARG_WEIGHTS, ex.in_layout(onednn::plain_memory(weight, Tag::oihw), plan.weights_desc())},
                  {DNNL_ARG_DST, dst}});
    onednn::write_back(dst, y_plain, ex.stream);
    ex.stream.wait();
    return y;
  });
}

void onednn_conv2d_backward(const Tensor& x_in, const Tensor& weight_in, const Tensor& grad_y, int64_t padding,
                            Tensor* grad_x, Tensor* grad_weight) {
  onednn::checked("conv2d_backward", [&] {
    Tensor x = dense(x_in), weight = dense(weight_in.detach());
    const ConvProblem p = problem_of(x, weight, padding);
    const auto hint = forward_plan(p);
    // The gradient arrives in f32; bf16 kernels take it in bf16, as PyTorch's autocast does.
    Tensor gy = grad_y.dtype() == x.dtype() ? dense(grad_y.detach()) : cast(grad_y.detach(), x.dtype());
    Execution ex;
    const memory gy_plain = onednn::plain_memory(gy, Tag::nchw);
    // Both gradients usually want grad_y in the same blocked layout: reorder it once.
    memory gy_blocked;
    auto grad_dst_in = [&](const memory::desc& wanted) {
      if (!gy_blocked || gy_blocked.get_desc() != wanted) gy_blocked = ex.in_layout(gy_plain, wanted);
      return gy_blocked;
    };
    if (grad_x) {
      dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, p.grad_src, p.weights,
                                                 p.grad_dst, p.strides, p.padding, p.padding);
      dnnl::convolution_backward_data::primitive_desc plan(desc, onednn::user_scratchpad(), onednn::engine(), hint);
      *grad_x = empty_output(p.grad_src, x);
      memory gx_plain = onednn::plain_memory(*grad_x, Tag::nchw);
      memory diff_src = ex.result(gx_plain, plan.diff_src_desc());
      ex.run<dnnl::convolution_backward_data>(plan, {{DNNL_ARG_DIFF_DST, grad_dst_in(plan.diff_dst_desc())},
                    {DNNL_ARG_WEIGHTS, ex.in_layout(onednn::plain_memory(weight, Tag::oihw), plan.weights_desc())},
                    {DNNL_ARG_DIFF_SRC, diff_src}});
      onednn::write_back(diff_src, gx_plain, ex.stream);
    }
    if (grad_weight) {
      dnnl::convolution_backward_weights::desc desc(dnnl::algorithm::convolution_direct, p.src, p.grad_weights,
                                                    p.grad_dst, p.strides, p.padding, p.padding);
      dnnl::convolution_backward_weights::primitive_desc plan(desc, onednn::user_scratchpad(), onednn::engine(),
                                                              hint);
      *grad_weight = empty_output(p.grad_weights, x);
      memory gw_plain = onednn::plain_memory(*grad_weight, Tag::oihw);
      memory diff_weights = ex.result(gw_plain, plan.diff_weights_desc());
      ex.run<dnnl::convolution_backward_weights>(plan, {{DNNL_ARG_DIFF_DST, grad_dst_in(plan.diff_dst_desc())},
                    {DNNL_ARG_SRC, ex.in_layout(onednn::plain_memory(x, Tag::nchw), plan.src_desc())},
                    {DNNL_ARG_DIFF_WEIGHTS, diff_weights}});
      onednn::write_back(diff_weights, gw_plain, ex.stream);
    }
    ex.stream.wait();
  });
}

}  // namespace ft::kernels
