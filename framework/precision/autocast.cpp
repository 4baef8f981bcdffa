#include "framework/precision/autocast.h"

namespace ft {

namespace {
thread_local DType tls_autocast = DType::f32;
}

DType autocast_dtype() { return tls_autocast; }

AutocastGuard::AutocastGuard(DType low_precision) : previous_(tls_autocast) {
  FT_CHECK(low_precision == DType::bf16 || low_precision == DType::f16 || low_precision == DType::f32,
           "autocast to {} (expected bf16, f16 or f32)", dtype_name(low_precision));
  tls_autocast = low_precision;
}

AutocastGuard::~AutocastGuard() { tls_autocast = previous_; }

Tensor autocast_input(const Tensor& t) {
  if (tls_autocast == DType::f32 || !t.defined()) return t;
  if (t.dtype() != DType::f32) return t;  // f64 stays exact; low precision already
  return t.to(tls_autocast);
}

}  // namespace ft
