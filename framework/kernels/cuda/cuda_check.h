// Checked CUDA runtime, cuBLAS(Lt) and cuDNN calls. A failed call throws ft::Error naming the
// call, file:line, the library's error string and a hint for the usual cause, so
// the CLI's one-line error report is enough to act on.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <cstring>
#include <string>

#include "framework/core/check.h"

namespace ft::detail {

inline const char* cuda_error_hint(cudaError_t error) {
  switch (error) {
    case cudaErrorMemoryAllocation:
      return "the device is out of memory; lower the batch size or release cached blocks";
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
      return "no usable CUDA device or driver; check nvidia-smi and CUDA_VISIBLE_DEVICES";
    case cudaErrorInvalidDevice:
      return "the device index is not visible; check CUDA_VISIBLE_DEVICES and the rank's local index";
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorInvalidDeviceFunction:
      return "the binary has no kernels for this GPU; rebuild with -DCMAKE_CUDA_ARCHITECTURES=<its sm>";
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
      return "a kernel faulted (the context is now unusable); rerun under compute-sanitizer";
    case cudaErrorInvalidConfiguration:
      return "bad launch configuration (grid or block size)";
    default:
      // Kernel launches are asynchronous: their faults surface at a later call.
      return "an earlier asynchronous launch may be the cause; rerun with CUDA_LAUNCH_BLOCKING=1";
  }
}

inline const char* cublas_status_hint(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "cuBLAS could not start: no usable device, driver or context";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "the device is out of memory for cuBLAS workspace";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "a size, leading dimension or stride is invalid for this GEMM";
    case CUBLAS_STATUS_ARCH_MISMATCH:
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return "this GPU does not support the requested data types or compute mode";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "the GEMM kernel failed to run; rerun with CUDA_LAUNCH_BLOCKING=1";
    default:
      return "see the cuBLAS documentation for this status";
  }
}

// cuDNN 9 statuses come in families of a thousand (2000s: bad parameters, ...).
inline const char* cudnn_status_hint(cudnnStatus_t status) {
  switch (status) {
    case CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED:
    case CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED:
      return "out of memory for cuDNN; lower the batch size or release cached blocks";
    case CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH:
      return "this GPU does not support the requested feature";
    case CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED:
      return "a cuDNN sub-library (libcudnn_cnn, ...) could not be loaded; check LD_LIBRARY_PATH";
    default:
      break;
  }
  switch (int(status) / 1000) {
    case 1: return "cuDNN could not start: no usable device, driver or context, or mismatched libraries";
    case 2: return "a descriptor, size, pointer or workspace is invalid for this operation";
    case 3: return "cuDNN has no kernel for this configuration (dtype, layout, math type, shape)";
    case 5: return "the cuDNN kernel failed to run; rerun with CUDA_LAUNCH_BLOCKING=1";
    default: return "see the cuDNN documentation for this status";
  }
}

inline const char* base_name(const char* file) {
  const char* slash = std::strrchr(file, '/');
  return slash ? slash + 1 : file;
}

[[noreturn]] inline void throw_cuda_error(cudaError_t error, const char* call, const char* file, int line) {
  throw Error(fmt::format("CUDA call {} failed at {}:{}: {} ({}); hint: {}", call, base_name(file), line,
                          cudaGetErrorString(error), cudaGetErrorName(error), cuda_error_hint(error)));
}

[[noreturn]] inline void throw_cublas_error(cublasStatus_t status, const char* call, const char* file,
                                            int line) {
  throw Error(fmt::format("cuBLAS call {} failed at {}:{}: {} ({}); hint: {}", call, base_name(file), line,
                          cublasGetStatusString(status), cublasGetStatusName(status),
                          cublas_status_hint(status)));
}

[[noreturn]] inline void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file, int line) {
  throw Error(fmt::format("cuDNN call {} failed at {}:{}: {} ({}); hint: {}", call, base_name(file), line,
                          cudnnGetErrorString(status), int(status), cudnn_status_hint(status)));
}

}  // namespace ft::detail

#define FT_CUDA_CHECK(call)                                                      \
  do {                                                                           \
    cudaError_t ft_cuda_status_ = (call);                                        \
    if (ft_cuda_status_ != cudaSuccess) [[unlikely]]                             \
      ::ft::detail::throw_cuda_error(ft_cuda_status_, #call, __FILE__, __LINE__); \
  } while (0)

#define FT_CUBLAS_CHECK(call)                                                        \
  do {                                                                               \
    cublasStatus_t ft_cublas_status_ = (call);                                       \
    if (ft_cublas_status_ != CUBLAS_STATUS_SUCCESS) [[unlikely]]                     \
      ::ft::detail::throw_cublas_error(ft_cublas_status_, #call, __FILE__, __LINE__); \
  } while (0)

#define FT_CUDNN_CHECK(call)                                                       \
  do {                                                                             \
    cudnnStatus_t ft_cudnn_status_ = (call);                                       \
    if (ft_cudnn_status_ != CUDNN_STATUS_SUCCESS) [[unlikely]]                     \
      ::ft::detail::throw_cudnn_error(ft_cudnn_status_, #call, __FILE__, __LINE__); \
  } while (0)

// After a <<<...>>> launch: reports a bad configuration or a missing kernel image
// at the launch that caused it rather than at some later call.
#define FT_CUDA_CHECK_LAUNCH() FT_CUDA_CHECK(cudaGetLastError())
