// CPU-only builds: no CUDA device can exist. CUDA builds define these in
// framework/kernels/cuda/cuda_allocator.cpp, which asks the runtime.
#include "framework/kernels/cuda/cuda_runtime.h"

#if !defined(FLOWTRAIN_HAVE_CUDA)
namespace ft {

bool cuda_device_available() { return false; }
int cuda_device_count() { return 0; }
std::string cuda_device_name(int) { return ""; }

}  // namespace ft
#endif
