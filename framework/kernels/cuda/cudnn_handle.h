// The one cuDNN handle per device, shared by the convolutions (conv_cudnn.cpp) and
// the frontend graphs (cudnn_graphs.cpp). Calls are checked with FT_CUDNN_CHECK
// (cuda_check.h).
#pragma once
#include <cudnn.h>

namespace ft::kernels::cuda {

// cuDNN's handle for cuda:index, created on first use with that device current,
// on the legacy default stream that orders every flowtrain kernel. Never
// destroyed, like the cuBLAS handles: destroying after the runtime unloads fails.
cudnnHandle_t cudnn_handle(int device_index);

}  // namespace ft::kernels::cuda
