// Device queries that every build can call: CPU-only builds answer "no device"
// (framework/core/device_query.cpp), CUDA builds ask the runtime
// (cuda_allocator.cpp). Include it by its full path,
// "framework/kernels/cuda/cuda_runtime.h": the bare name is the CUDA toolkit's.
#pragma once
#include <string>

namespace ft {

// True when built with CUDA and at least one device can be used (driver present,
// device visible). Never throws; the answer is computed once.
bool cuda_device_available();
// Visible devices; 0 without CUDA or without a usable driver.
int cuda_device_count();
// The runtime's name of a visible device ("NVIDIA H100 80GB HBM3"); "" when none.
std::string cuda_device_name(int index);

}  // namespace ft
