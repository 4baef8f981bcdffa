// Gradients as values, as torch.autograd.grad: of outputs with respect to chosen
// inputs, without touching any .grad. With create_graph the gradients are
// differentiable again (double backward), which is what vector-Jacobian-product
// estimators of log-determinants train through.
#pragma once
#include <functional>
#include <vector>

#include "framework/core/tensor.h"

namespace ft {

// d(sum_i <outputs[i], grad_outputs[i]>) / d inputs[j] for every j. grad_outputs may
// be empty when every output is a scalar (seeds of one). An input the outputs do
// not depend on gets an undefined tensor. The graph is freed unless retain_graph
// (which create_graph implies).
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool create_graph = false,
                         bool retain_graph = false);

// The vector-Jacobian product v^T J of output with respect to each input.
std::vector<Tensor> vjp(const Tensor& output, const std::vector<Tensor>& inputs, const Tensor& v,
                        bool create_graph = false);

// The Jacobian-vector product J u (u: one tangent per input, shaped like it) of
// output, by differentiating the vector-Jacobian product with respect to its vector
// (the double-backward trick): needs every op on the path to support double backward.
Tensor jvp(const Tensor& output, const std::vector<Tensor>& inputs, const std::vector<Tensor>& tangents,
           bool create_graph = false);

// The double-backward path of a fused op: its gradient through composite, the same
// function rebuilt from differentiable primitives, with a graph (create_graph). The
// composite gets aliases of the op's saved inputs (views, one per input), so an op
// given one tensor twice (attention's q = k) gets each slot's own gradient. One
// gradient per input; undefined where an input is undefined or needs none.
using Composite = std::function<Tensor(const std::vector<Tensor>& inputs)>;
std::vector<Tensor> gradients_by_recomputation(const Composite& composite,
                                               const std::vector<Tensor>& inputs, const Tensor& grad_output);

}  // namespace ft
