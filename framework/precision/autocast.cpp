#include "framework/precision/autocast.h"

#include <map>
#include <memory>
#include <utility>

#include "framework/autograd/grad_mode.h"

namespace ft {

namespace {

thread_local DType tls_autocast = DType::f32;
thread_local int tls_guards = 0;  // open AutocastGuards on this thread

// Parameters cast while no graph is recorded, until the outermost guard closes
// (PyTorch's autocast weight cache): sampling runs every layer once per token, and
// would otherwise cast every weight again each time.
// Each entry holds its parameter, so no other tensor can take the parameter's address.
struct ParameterCast {
  std::shared_ptr<TensorImpl> parameter;
  Tensor cast;
};
using CastKey = std::pair<const TensorImpl*, DType>;
thread_local std::map<CastKey, ParameterCast> tls_parameter_casts;

}  // namespace

DType autocast_dtype() { return tls_autocast; }

AutocastGuard::AutocastGuard(DType low_precision) : previous_(tls_autocast) {
  FT_CHECK(low_precision == DType::bf16 || low_precision == DType::f16 || low_precision == DType::f32,
           "autocast to {} (expected bf16, f16 or f32)", dtype_name(low_precision));
  tls_autocast = low_precision;
  ++tls_guards;
}

AutocastGuard::~AutocastGuard() {
  tls_autocast = previous_;
  if (--tls_guards == 0) tls_parameter_casts.clear();
}

Tensor autocast_input(const Tensor& t) {
  if (tls_autocast == DType::f32 || !t.defined()) return t;
  if (t.dtype() != DType::f32) return t;  // f64 stays exact; low precision already
  // Only parameters (leaves that require grad) outside autograd: their casts carry no
  // graph, and nothing updates them inside one forward.
  if (grad_enabled() || !t.requires_grad() || !t.is_leaf()) return t.to(tls_autocast);
  ParameterCast& entry = tls_parameter_casts[CastKey{t.impl_ptr().get(), tls_autocast}];
  if (!entry.cast.defined()) entry = ParameterCast{t.impl_ptr(), t.to(tls_autocast)};
  return entry.cast;
}

}  // namespace ft
