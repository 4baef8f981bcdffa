// NumPy .npy files (format version 1.0): a little-endian float32 C-order array, the
// form `flowtrain sample` gives vector samples in (np.load reads them).
#pragma once
#include <string>

#include "framework/core/tensor.h"

namespace ft::io {

// values: any floating tensor on any device, written as <f4 of its shape, atomically.
void write_npy_file(const std::string& path, const Tensor& values);

}  // namespace ft::io
