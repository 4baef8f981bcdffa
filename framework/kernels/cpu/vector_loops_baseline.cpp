// vector_loops.h for any x86-64 (SSE2), and the choice among the instruction sets.
#define FT_VECTOR_ISA isa_baseline
#define FT_VECTOR_ISA_NAME "baseline"
#include "framework/kernels/cpu/vector_loops_isa.h"

#include <cstdlib>
#include <cstring>

namespace ft::kernels::vector_loops {

namespace isa_avx512 {
const Table& table();  // vector_loops_avx512.cpp
}

const Table& baseline() { return isa_baseline::table(); }

const Table* avx512() {
  static const bool supported = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                                __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  return supported ? &isa_avx512::table() : nullptr;
}

const Table& best() {
  static const Table& chosen = [] () -> const Table& {
    const char* forced = std::getenv("FLOWTRAIN_CPU_ISA");
    if (forced && std::strcmp(forced, "baseline") == 0) return baseline();
    return avx512() ? *avx512() : baseline();
  }();
  return chosen;
}

}  // namespace ft::kernels::vector_loops
