// The one cuDNN handle per device, and checked cuDNN calls. Plain cuDNN (no
// frontend types), so the convolution code and the frontend graphs
// (cudnn_graphs.cpp) share the handle.
#pragma once
#include <cudnn.h>

#include "framework/kernels/cuda/cuda_check.h"

namespace ft::detail {

inline const char* cudnn_status_hint(cudnnStatus_t status) {
  switch (status) {
    case CUDNN_STATUS_NOT_INITIALIZED:
      return "cuDNN could not start: no usable device, driver or context";
    case CUDNN_STATUS_ALLOC_FAILED:
      return "the host or device is out of memory for cuDNN";
    case CUDNN_STATUS_ARCH_MISMATCH:
    case CUDNN_STATUS_NOT_SUPPORTED:
      return "this GPU or cuDNN build does not support the operation";
    case CUDNN_STATUS_VERSION_MISMATCH:
      return "libcudnn at run time differs from the cudnn.h built against; check LD_LIBRARY_PATH";
    default:
      return "see the cuDNN documentation for this status";
  }
}

[[noreturn]] inline void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file, int line) {
  throw Error(fmt::format("cuDNN call {} failed at {}:{}: {} ({}); hint: {}", call, base_name(file), line,
                          cudnnGetErrorString(status), int(status), cudnn_status_hint(status)));
}

}  // namespace ft::detail

#define FT_CUDNN_CHECK(call)                                                        \
  do {                                                                              \
    cudnnStatus_t ft_cudnn_status_ = (call);                                        \
    if (ft_cudnn_status_ != CUDNN_STATUS_SUCCESS) [[unlikely]]                      \
      ::ft::detail::throw_cudnn_error(ft_cudnn_status_, #call, __FILE__, __LINE__); \
  } while (0)

namespace ft::kernels::cuda {

// cuDNN's handle for cuda:index, created on first use with that device current,
// on the legacy default stream that orders every flowtrain kernel. Never
// destroyed, like the allocators: destroying after the runtime unloads fails.
cudnnHandle_t cudnn_handle(int device_index);

}  // namespace ft::kernels::cuda
