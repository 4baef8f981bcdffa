// The kernel table (PyTorch's DispatchStub, per entry point of kernels.h): each
// backend registers, per op, one kernel for its device kind and the dtypes that
// kernel takes. The entry points of kernels.h (kernels.cpp) find their kernel here
// by the device of their inputs and the dtype of their main input (the first
// tensor; grad for unary_backward, src for index_add); a combination nobody
// registered is an ft::Error naming op, device and dtype, so a tensor never
// reaches a kernel of another device.
#pragma once
#include <array>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "framework/core/check.h"
#include "framework/core/tensor.h"
#include "framework/kernels/kernels.h"

namespace ft::kernels {

constexpr size_t kDeviceKinds = 2;  // DeviceKind::cpu, DeviceKind::cuda
const char* device_kind_name(DeviceKind kind);

// A set of dtypes, one bit each.
class DTypeSet {
 public:
  constexpr DTypeSet() = default;
  constexpr DTypeSet(std::initializer_list<DType> dtypes) {
    for (DType d : dtypes) bits_ |= bit(d);
  }
  constexpr bool contains(DType d) const { return (bits_ & bit(d)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  std::vector<DType> list() const;  // in DType order

 private:
  static constexpr uint32_t bit(DType d) { return uint32_t(1) << unsigned(d); }
  uint32_t bits_ = 0;
};

inline constexpr DTypeSet kFloat32And64{DType::f32, DType::f64};
inline constexpr DTypeSet kFloating{DType::f32, DType::f64, DType::bf16, DType::f16};
inline constexpr DTypeSet kAllDTypes{DType::f32, DType::f64, DType::bf16, DType::f16,
                                     DType::i32, DType::i64, DType::u8};

// What one op has registered, without the kernels' function type: for listings.
struct OpCoverage {
  explicit OpCoverage(const char* op_name) : name(op_name) {}
  const char* name;  // the entry point's name in kernels.h
  std::array<DTypeSet, kDeviceKinds> dtypes{};
};

template <class Fn>
struct OpKernels : OpCoverage {
  using OpCoverage::OpCoverage;
  std::array<Fn*, kDeviceKinds> kernels{};

  // The kernel serves every device of its kind (cpu:0 and cpu:1, every GPU).
  void add(DeviceKind kind, Fn* kernel, DTypeSet supported) {
    kernels[size_t(kind)] = kernel;
    dtypes[size_t(kind)] = supported;
  }
  Fn* find(Device device, DType dtype) const {
    const size_t kind = size_t(device.kind);
    FT_CHECK(kernels[kind] != nullptr && dtypes[kind].contains(dtype), "no kernel for kernels::{} on {} in {}",
             name, device.str(), dtype_name(dtype));
    return kernels[kind];
  }
};

// Every entry point of kernels.h but the inline add, in the order there.
struct KernelTable {
  KernelTable();
  KernelTable(const KernelTable&) = delete;
  KernelTable& operator=(const KernelTable&) = delete;

  OpKernels<Tensor(const Tensor&)> copy{"copy"};
  OpKernels<void(Tensor&, const Tensor&)> copy_into{"copy_into"};
  OpKernels<Tensor(const Tensor&, DType)> cast{"cast"};
  OpKernels<Tensor(const Tensor&)> upcast_half{"upcast_half"};
  OpKernels<void(Tensor&, double)> fill{"fill"};
  OpKernels<Tensor(UnaryOp, const Tensor&, double)> unary{"unary"};
  OpKernels<Tensor(UnaryOp, const Tensor&, const Tensor&, const Tensor&, double)> unary_backward{"unary_backward"};
  OpKernels<Tensor(BinaryOp, const Tensor&, const Tensor&)> binary{"binary"};
  OpKernels<void(Tensor&, const Tensor&, double)> add_inplace{"add_inplace"};
  OpKernels<Tensor(const Tensor&, double, double)> scale_shift{"scale_shift"};
  OpKernels<Tensor(const Tensor&, const std::vector<int64_t>&, bool)> sum{"sum"};
  OpKernels<Tensor(const Tensor&, const Shape&)> sum_to{"sum_to"};
  OpKernels<Tensor(const Tensor&, int64_t, bool, Tensor*)> max{"max"};
  OpKernels<double(const Tensor&)> sum_all{"sum_all"};
  OpKernels<Tensor(const Tensor&, const Tensor&, bool, bool)> matmul{"matmul"};
  OpKernels<Tensor(const Tensor&, const Tensor&, const Tensor&)> linear{"linear"};
  OpKernels<Tensor(const Tensor&, const Tensor&, int64_t)> conv2d{"conv2d"};
  OpKernels<void(const Tensor&, const Tensor&, const Tensor&, int64_t, Tensor*, Tensor*)> conv2d_backward{
      "conv2d_backward"};
  OpKernels<Tensor(const Tensor&, const Tensor&, const Tensor&, double, Tensor*, Tensor*)> layer_norm{"layer_norm"};
  OpKernels<void(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, Tensor*, Tensor*,
                 Tensor*)>
      layer_norm_backward{"layer_norm_backward"};
  OpKernels<Tensor(const Tensor&)> softmax{"softmax"};
  OpKernels<Tensor(const Tensor&, const Tensor&)> softmax_backward{"softmax_backward"};
  OpKernels<Tensor(const Tensor&, const Tensor&, const Tensor&)> channel_affine{"channel_affine"};
  OpKernels<void(const Tensor&, const Tensor&, const Tensor&, Tensor*, Tensor*, Tensor*)> channel_affine_backward{
      "channel_affine_backward"};
  OpKernels<Tensor(const Tensor&, const Tensor&, const Tensor&, double, Tensor*)> causal_attention{
      "causal_attention"};
  OpKernels<void(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, double,
                 Tensor*, Tensor*, Tensor*)>
      causal_attention_backward{"causal_attention_backward"};
  OpKernels<Tensor(const Tensor&, const Tensor&, const Tensor&, int64_t, double)> cached_attention{
      "cached_attention"};
  OpKernels<Tensor(const Tensor&, int64_t, const Tensor&)> index_select{"index_select"};
  OpKernels<Tensor(const Shape&, int64_t, const Tensor&, const Tensor&)> index_add{"index_add"};
  OpKernels<void(const Tensor&, double*, double*)> slogdet{"slogdet"};
  OpKernels<Tensor(const Tensor&)> inverse{"inverse"};
  OpKernels<Tensor(const Tensor&, const Tensor&, bool, bool)> triangular_solve{"triangular_solve"};
  OpKernels<Tensor(const Tensor&)> qr_orthogonal{"qr_orthogonal"};
  OpKernels<LUFactors(const Tensor&)> lu_decompose{"lu_decompose"};
  OpKernels<void(OptimizerRule, const OptimizerScalars&, Tensor&, const Tensor&, Tensor&, Tensor&)>
      optimizer_update{"optimizer_update"};
  OpKernels<void(Tensor&, const Tensor&, double)> ema_update{"ema_update"};
  OpKernels<void(Tensor&, double)> scale_inplace{"scale_inplace"};
  OpKernels<double(const Tensor&)> squared_norm{"squared_norm"};

  // Every op above, in declaration order (for listings and coverage tests).
  std::vector<const OpCoverage*> ops() const;
};

// The table, filled on first use by every backend built in.
const KernelTable& kernel_table();

// The device that every defined tensor of an op's inputs is on; tensors on two
// devices (cpu:0 and cpu:1 as much as cpu and cuda:0) are an error naming the op.
Device common_device(const char* op, std::initializer_list<const Tensor*> tensors);

// Registration, one function per backend file. Called by kernel_table() (not from
// static initialisers, which the linker drops from a static library when nothing
// references their object file).
namespace cpu {
void register_elementwise(KernelTable& table);
void register_reduce(KernelTable& table);
void register_matmul(KernelTable& table);
void register_conv(KernelTable& table);
void register_norm(KernelTable& table);
void register_channel_affine(KernelTable& table);
void register_attention(KernelTable& table);
void register_index(KernelTable& table);
void register_linalg(KernelTable& table);
void register_optimizer(KernelTable& table);
}  // namespace cpu
namespace cuda {
void register_kernels(KernelTable& table);  // defined in CUDA builds only
}

}  // namespace ft::kernels
