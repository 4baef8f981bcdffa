// The backward pass: an iterative walk over the graph in reverse creation order.
#pragma once
#include <vector>

#include "framework/core/tensor.h"

namespace ft {

// Computes gradients of root (seeded with gradient) into the .grad of every leaf
// that requires grad. Frees saved tensors unless retain_graph.
void run_backward(const Tensor& root, const Tensor& gradient, bool retain_graph);

// The gradients of roots (seeded with seeds, one per root) with respect to inputs,
// returned rather than accumulated into .grad: only the part of the graph between
// them runs. With create_graph the results carry a graph of their own (double
// backward). An input no root depends on gets an undefined tensor.
std::vector<Tensor> run_grad(const std::vector<Tensor>& roots, const std::vector<Tensor>& seeds,
                             const std::vector<Tensor>& inputs, bool create_graph, bool retain_graph);

}  // namespace ft
