#include "framework/kernels/cpu/onednn.h"

namespace ft::kernels::onednn {

dnnl::engine& engine() {
  static dnnl::engine cpu(dnnl::engine::kind::cpu, 0);
  return cpu;
}

namespace {

bool plans_bf16_products() {
  using dnnl::memory;
  const auto bf16 = memory::data_type::bf16, f32 = memory::data_type::f32;
  try {
    const memory::desc a({4, 4}, bf16, memory::format_tag::ab), c({4, 4}, f32, memory::format_tag::ab);
    dnnl::matmul::primitive_desc matmul(dnnl::matmul::desc(a, a, c), engine());
    const memory::desc x({1, 4, 4, 4}, bf16, memory::format_tag::any), w({4, 4, 3, 3}, bf16, memory::format_tag::any),
        y({1, 4, 4, 4}, f32, memory::format_tag::any);
    dnnl::convolution_forward::desc conv(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, x,
                                         w, y, {1, 1}, {1, 1}, {1, 1});
    dnnl::convolution_forward::primitive_desc plan(conv, engine());
    return true;
  } catch (const dnnl::error&) {
    return false;
  }
}

}  // namespace

bool has_bf16_kernels() {
  static const bool available = plans_bf16_products();
  return available;
}

dnnl::memory::data_type data_type_of(DType dtype) {
  switch (dtype) {
    case DType::f32: return dnnl::memory::data_type::f32;
    case DType::bf16: return dnnl::memory::data_type::bf16;
    case DType::f16: return dnnl::memory::data_type::f16;
    default: FT_FAIL("oneDNN kernels take f32, bf16 or f16, not {}", dtype_name(dtype));
  }
}

dnnl::memory::dims dims_of(const Shape& shape) { return dnnl::memory::dims(shape.begin(), shape.end()); }

dnnl::memory plain_memory(const Tensor& t, dnnl::memory::format_tag tag) {
  FT_CHECK(t.is_contiguous(), "oneDNN memory needs a dense tensor, got strides of shape {}", shape_str(t.shape()));
  dnnl::memory::desc desc(dims_of(t.shape()), data_type_of(t.dtype()), tag);
  // oneDNN takes a non-const handle; inputs are only read.
  return dnnl::memory(desc, engine(), const_cast<void*>(t.raw_data()));
}

dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

dnnl::memory scratch_memory(const dnnl::memory::desc& desc, Tensor& owner) {
  owner = Tensor::empty({int64_t(desc.get_size())}, DType::u8);
  return dnnl::memory(desc, engine(), owner.raw_data());
}

dnnl::memory in_layout(const dnnl::memory& source, const dnnl::memory::desc& wanted, Tensor& owner,
                       dnnl::stream& stream) {
  if (source.get_desc() == wanted) return source;
  dnnl::memory target = scratch_memory(wanted, owner);
  dnnl::reorder(source, target).execute(stream, const_cast<dnnl::memory&>(source), target);
  return target;
}

dnnl::memory result_memory(const dnnl::memory& plain, const dnnl::memory::desc& chosen, Tensor& owner) {
  return plain.get_desc() == chosen ? plain : scratch_memory(chosen, owner);
}

void write_back(const dnnl::memory& result, dnnl::memory& plain, dnnl::stream& stream) {
  if (result.get_desc() == plain.get_desc()) return;
  dnnl::reorder(result, plain).execute(stream, const_cast<dnnl::memory&>(result), plain);
}

}  // namespace ft::kernels::onednn
