// The backward pass: an iterative walk over the graph in reverse creation order.
#pragma once
#include "framework/core/tensor.h"

namespace ft {

// Computes gradients of root (seeded with gradient) into the .grad of every leaf
// that requires grad. Frees saved tensors unless retain_graph.
void run_backward(const Tensor& root, const Tensor& gradient, bool retain_graph);

}  // namespace ft
