// Host-side helpers every CUDA kernel file shares: making a tensor's device
// current, checking operands share it, and dense on-device copies. Plain C++ on
// the CUDA runtime API, so .cpp files (cuBLAS, cuDNN) use them as .cu files do.
#pragma once
#include "framework/core/tensor.h"

namespace ft::kernels::cuda {

inline bool on_cuda(const Tensor& t) { return t.device().kind == DeviceKind::cuda; }

// Makes the tensor's device current for this thread: launches, cudaMalloc and the
// library handles act on the current device.
void use_device(Device device);

void check_same_device(const Tensor& a, const Tensor& b, const char* what);

// Copy between two tensors of one shape on one device, converting dtype, any strides.
void device_copy(const Tensor& dst, const Tensor& src);

// A dense tensor on src's device holding src in dtype (src itself when it already is).
Tensor dense_on_device(const Tensor& src, DType dtype);

}  // namespace ft::kernels::cuda
