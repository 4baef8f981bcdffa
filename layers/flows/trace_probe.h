// Probes of Hutchinson's trace estimator, tr(A) = E[v^T A v] for E[v v^T] = I:
// standard normal or Rademacher (+-1) values.
#pragma once
#include <string>

#include "framework/core/tensor.h"
#include "framework/random/generator.h"

namespace ft::layers::flows {

enum class TraceProbe { gaussian, rademacher };

TraceProbe parse_trace_probe(const std::string& name, const std::string& key);

// Probes shaped like x ([N, ...]), one per example, drawn with normal_per_example
// (so an example's probe depends on its index alone); Rademacher ones are the signs
// of the normal draws.
Tensor draw_probes_like(const Tensor& x, TraceProbe probe, Generator& gen);

}  // namespace ft::layers::flows
