// vector_loops.h for AVX-512 (F, BW, DQ, VL); compiled with those flags and
// without FMA contraction (framework/CMakeLists.txt), called only where
// vector_loops::avx512() found them on the running CPU.
#define FT_VECTOR_ISA isa_avx512
#define FT_VECTOR_ISA_NAME "avx512"
#include "framework/kernels/cpu/vector_loops_isa.h"
