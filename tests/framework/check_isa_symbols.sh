#!/usr/bin/env bash
# The AVX-512 copy of the vector loops must define no global or weak symbol outside
# its own namespace: a shared inline function emitted there (functors.h,
# fast_math.h) could be chosen by the linker for the SSE2 callers too, and crash
# on a CPU without AVX-512. Arguments: the framework's object files.
set -euo pipefail
obj=$(printf '%s\n' "$@" | grep 'vector_loops_avx512' | head -n 1)
[ -n "$obj" ] || { echo "no vector_loops_avx512 object among the arguments" >&2; exit 1; }
own=$(nm -C --defined-only "$obj" | grep -cE ' [TWV] ft::kernels::vector_loops::isa_avx512::' || true)
foreign=$(nm -C --defined-only "$obj" | grep -E ' [TWVu] ' | grep -v ' ft::kernels::vector_loops::isa_avx512::' || true)
echo "$obj: $own symbols of its own"
[ "$own" -gt 0 ] || { echo "the object defines none of its own loops" >&2; exit 1; }
if [ -n "$foreign" ]; then
  echo "shared symbols emitted by the AVX-512 object:" >&2
  echo "$foreign" >&2
  exit 1
fi
