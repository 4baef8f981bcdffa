#include "framework/kernels/flop_count.h"

namespace ft::kernels {

namespace {
thread_local FlopCounter* tls_innermost = nullptr;
}  // namespace

FlopCounter::FlopCounter() : outer_(tls_innermost) { tls_innermost = this; }

FlopCounter::~FlopCounter() { tls_innermost = outer_; }

void count_flops(double flops) {
  for (FlopCounter* counter = tls_innermost; counter; counter = counter->outer_) counter->flops_ += flops;
}

}  // namespace ft::kernels
