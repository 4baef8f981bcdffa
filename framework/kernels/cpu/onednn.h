// The glue between Tensors and oneDNN (Debian's libdnnl, the library behind
// PyTorch's CPU convolutions): the CPU engine, memory objects over tensor data,
// reorders between plain and blocked layouts, and oneDNN errors as ft::Error.
// Only the oneDNN kernel files include this; its header is heavy.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>

#include "framework/core/tensor.h"

namespace ft::kernels::onednn {

// One CPU engine for the process: oneDNN's primitive cache is keyed by engine,
// so a shared one lets every call with the same shapes reuse the compiled kernel.
dnnl::engine& engine();

dnnl::memory::data_type data_type_of(DType dtype);  // f32, bf16, f16; else throws

// Whether this CPU has oneDNN's bf16 convolution and matmul kernels (oneDNN 2.6
// implements them from AVX-512 on; an AVX2-only CPU has none). Asked once, by
// planning a small bf16 convolution and matmul; without them bf16 products run
// on the f32 paths, on the same rounded values.
bool has_bf16_kernels();

// The dims as oneDNN wants them.
dnnl::memory::dims dims_of(const Shape& shape);

// A oneDNN memory over t's data (t must be dense) in the plain layout `tag`.
dnnl::memory plain_memory(const Tensor& t, dnnl::memory::format_tag tag);

// Primitive attributes that hand the scratchpad to the caller (scratch_memory).
dnnl::primitive_attr user_scratchpad();

// oneDNN memory in layout `desc` over a fresh buffer from flowtrain's caching
// allocator (oneDNN's own would mmap and page-fault big buffers on every call);
// `owner` keeps the buffer alive.
dnnl::memory scratch_memory(const dnnl::memory::desc& desc, Tensor& owner);

// `source` in the layout `wanted`: itself when it already has it, else a copy
// reordered into scratch owned by `owner`.
dnnl::memory in_layout(const dnnl::memory& source, const dnnl::memory::desc& wanted, Tensor& owner,
                       dnnl::stream& stream);

// The memory a primitive writes a result of layout `chosen` to: `plain` itself when
// the layouts agree, else scratch that write_back then reorders into `plain`.
dnnl::memory result_memory(const dnnl::memory& plain, const dnnl::memory::desc& chosen, Tensor& owner);
void write_back(const dnnl::memory& result, dnnl::memory& plain, dnnl::stream& stream);

// Runs fn and turns a dnnl::error into ft::Error naming `what` and oneDNN's status.
template <class Fn>
decltype(auto) checked(const char* what, Fn&& fn) {
  try {
    return fn();
  } catch (const dnnl::error& e) {
    throw Error(fmt::format("{}: oneDNN failed with status {}: {}", what, int(e.status), e.what()));
  }
}

}  // namespace ft::kernels::onednn
