// Autograd graph nodes. A node is created by a differentiable op for its one
// output; it keeps what backward needs (never the output: no reference cycles)
// and an edge to the node of each input that requires grad.
#pragma once
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "framework/core/tensor.h"

namespace ft {

struct Node {
  // Releases long chains iteratively: a recursive shared_ptr teardown of a graph
  // with 100k nodes would overflow the stack.
  virtual ~Node();
  // Given dL/d(output), returns dL/d(input_i) for every input (undefined where none).
  // With create_graph (and grad mode on) the returned gradients carry a graph of
  // their own, so they can be differentiated again.
  virtual std::vector<Tensor> backward(const Tensor& grad_output, bool create_graph) = 0;
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
  std::vector<Tensor> backward(const Tensor& grad_output, bool create_graph) override;
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

// Marks a recorded op whose backward is first-order only: a graph of its gradient
// (create_graph) fails naming the op rather than silently treating it as constant.
struct FirstOrderOnly {};
// Marks a backward written with differentiable ops (framework/ops), so the same
// function serves first-order backward (grad mode off: plain kernels) and double
// backward (grad mode on: it records its own graph).
struct SameFunction {};

// Node whose backward is a lambda on saved values. Fast is the first-order backward;
// Differentiable the one used when the engine builds a graph of the gradient.
template <class Fast, class Differentiable>
struct LambdaNode final : Node {
  LambdaNode(const char* op_name, Fast fast, Differentiable differentiable)
      : op_name_(op_name), saved_(std::in_place, std::move(fast), std::move(differentiable)) {}
  std::vector<Tensor> backward(const Tensor& grad_output, bool create_graph) override {
    FT_CHECK(saved_.has_value(), "backward through {} whose graph was freed; use retain_graph", op_name_);
    if constexpr (std::is_same_v<Differentiable, FirstOrderOnly>) {
      FT_CHECK(!create_graph, "a graph of the gradient (create_graph) through {}, which has only a first-order backward",
               op_name_);
      return saved_->first(grad_output);
    } else if constexpr (std::is_same_v<Differentiable, SameFunction>) {
      return saved_->first(grad_output);
    } else {
      return create_graph ? saved_->second(grad_output) : saved_->first(grad_output);
    }
  }
  const char* name() const override { return op_name_; }
  void release_saved() override { saved_.reset(); }

 private:
  const char* op_name_;
  std::optional<std::pair<Fast, Differentiable>> saved_;
};

// Records `output = op(inputs)` with a first-order backward fn(grad) -> grads per
// input, on kernels. The lambda must not capture output (a reference cycle); inputs
// may be captured as they are.
template <class Fn>
void record(const char* op_name, Tensor& output, const std::vector<Tensor>& inputs, Fn fn) {
  if (!any_requires_grad(inputs)) return;
  attach_node(output, std::make_shared<LambdaNode<Fn, FirstOrderOnly>>(op_name, std::move(fn), FirstOrderOnly{}),
              inputs);
}

// Records an op whose backward fn is written with differentiable ops: it then
// supports gradients of gradients. Captured inputs must be the inputs themselves (not
// detached), so that the gradient's graph reaches them.
template <class Fn>
void record_differentiable(const char* op_name, Tensor& output, const std::vector<Tensor>& inputs, Fn fn) {
  if (!any_requires_grad(inputs)) return;
  attach_node(output, std::make_shared<LambdaNode<Fn, SameFunction>>(op_name, std::move(fn), SameFunction{}), inputs);
}

// Records an op with a fused first-order backward and a differentiable one (written
// with ops) for gradients of gradients.
template <class Fast, class Differentiable>
void record(const char* op_name, Tensor& output, const std::vector<Tensor>& inputs, Fast fast,
            Differentiable differentiable) {
  if (!any_requires_grad(inputs)) return;
  attach_node(output,
              std::make_shared<LambdaNode<Fast, Differentiable>>(op_name, std::move(fast), std::move(differentiable)),
              inputs);
}

}  // namespace ft
