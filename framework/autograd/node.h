// Autograd graph nodes. A node is created by a differentiable op for its one
// output; it keeps what backward needs (detached tensors, so no reference cycles)
// and an edge to the node of each input that requires grad.
#pragma once
#include <memory>
#include <optional>
#include <vector>

#include "framework/core/tensor.h"

namespace ft {

struct Node {
  // Releases long chains iteratively: a recursive shared_ptr teardown of a graph
  // with 100k nodes would overflow the stack.
  virtual ~Node();
  // Given dL/d(output), returns dL/d(input_i) for every input (undefined where none).
  virtual std::vector<Tensor> backward(const Tensor& grad_output) = 0;
  virtual const char* name() const = 0;
  // Drops saved tensors once backward has used them (unless the graph is retained).
  virtual void release_saved() {}

  std::vector<std::shared_ptr<Node>> next;  // per input; null when it needs no grad
  uint64_t sequence = 0;                     // creation order; later nodes run first
  bool released = false;
};

// Sink node of a leaf that requires grad: sums incoming gradients into leaf.grad
// and then runs the leaf's gradient-ready hooks.
struct AccumulateGrad final : Node {
  explicit AccumulateGrad(const std::shared_ptr<TensorImpl>& leaf);
  std::vector<Tensor> backward(const Tensor& grad_output) override;
  const char* name() const override { return "AccumulateGrad"; }
  std::weak_ptr<TensorImpl> leaf;
};

// Returns the edge for an input: its grad_fn, its accumulator (created on demand
// for leaves), or null when it needs no gradient.
std::shared_ptr<Node> edge_of(const Tensor& input);

// True when grad mode is on and any input requires grad.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);
bool any_requires_grad(const std::vector<Tensor>& inputs);

// Attaches node to output: sets edges from inputs, a sequence number, marks output.
void attach_node(Tensor& output, std::shared_ptr<Node> node, const std::vector<Tensor>& inputs);

// Node whose backward is a lambda: for ops whose backward is a formula on saved values.
template <class Fn>
struct LambdaNode final : Node {
  LambdaNode(const char* op_name, Fn fn) : op_name_(op_name), fn_(std::move(fn)) {}
  std::vector<Tensor> backward(const Tensor& grad_output) override {
    FT_CHECK(fn_.has_value(), "backward through {} whose graph was freed; use retain_graph", op_name_);
    return (*fn_)(grad_output);
  }
  const char* name() const override { return op_name_; }
  void release_saved() override { fn_.reset(); }

 private:
  const char* op_name_;
  std::optional<Fn> fn_;
};

// Records `output = op(inputs)` with backward fn(grad) -> grads per input. The lambda
// must capture only detached tensors (use Tensor::detach()).
template <class Fn>
void record(const char* op_name, Tensor& output, const std::vector<Tensor>& inputs, Fn fn) {
  if (!any_requires_grad(inputs)) return;
  attach_node(output, std::make_shared<LambdaNode<Fn>>(op_name, std::move(fn)), inputs);
}

}  // namespace ft
