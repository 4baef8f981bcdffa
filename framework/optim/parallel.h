// The element loop shared by the optimizer math: OpenMP over elements, serial for
// small ranges where starting the threads costs more than the work.
#pragma once
#include <cstdint>

namespace ft::optim::detail {

inline constexpr int64_t kParallelThreshold = int64_t{1} << 15;

template <class Body>
void for_each_element(int64_t n, const Body& body) {
#pragma omp parallel for schedule(static) if (n >= kParallelThreshold)
  for (int64_t i = 0; i < n; ++i) body(i);
}

}  // namespace ft::optim::detail
