#include "framework/autograd/recompute.h"

#include "framework/autograd/engine.h"
#include "framework/autograd/grad_mode.h"
#include "framework/autograd/node.h"
#include "framework/ops/ops.h"
#include "framework/precision/autocast.h"

namespace ft {

namespace {

// Where each output lives in the one packed tensor the node is attached to: a node
// has one output, so the segment's outputs travel as views of a flat concatenation.
struct PackedOutput {
  Shape shape;
  int64_t offset = 0, numel = 0;
  bool defined = false;
};

struct RecomputeNode final : Node {
  Segment segment;
  std::vector<Tensor> inputs, parameters;  // the node's inputs, in this order
  std::vector<PackedOutput> outputs;
  DType autocast = DType::f32;

  const char* name() const override { return "recomputed segment"; }
  void release_saved() override {
    inputs.clear();
    parameters.clear();
    segment = nullptr;
  }

  std::vector<Tensor> backward(const Tensor& grad_packed, bool create_graph) override {
    FT_CHECK(!create_graph, "a graph of the gradient (create_graph) through a recomputed segment; "
                            "turn recomputation off for double backward");
    FT_CHECK(segment != nullptr, "backward through a recomputed segment whose graph was freed; use retain_graph");
    // The second run sees detached copies of the inputs, so the gradients it
    // produces stop at them and the outer engine carries them on.
    std::vector<Tensor> fresh_inputs, targets;
    for (const Tensor& input : inputs) {
      Tensor fresh = input.defined() ? input.detach() : Tensor();
      if (fresh.defined() && input.requires_grad()) fresh.set_requires_grad(true);
      fresh_inputs.push_back(fresh);
      if (fresh.defined() && fresh.requires_grad()) targets.push_back(fresh);
    }
    for (const Tensor& parameter : parameters)
      if (parameter.requires_grad()) targets.push_back(parameter);
    std::vector<Tensor> rerun;
    {
      GradModeGuard recording(true);
      AutocastGuard same_precision(autocast);
      rerun = segment(fresh_inputs);
    }
    FT_CHECK(rerun.size() == outputs.size(), "a recomputed segment returned {} outputs, first {}", rerun.size(),
             outputs.size());
    std::vector<Tensor> roots, seeds;
    for (size_t i = 0; i < outputs.size(); ++i) {
      const PackedOutput& out = outputs[i];
      if (!out.defined || !rerun[i].requires_grad()) continue;
      FT_CHECK(rerun[i].shape() == out.shape, "a recomputed segment's output {} has shape {}, first {}", i,
               shape_str(rerun[i].shape()), shape_str(out.shape));
      roots.push_back(rerun[i]);
      seeds.push_back(grad_packed.slice(0, out.offset, out.offset + out.numel).reshape(out.shape));
    }
    if (roots.empty() || targets.empty()) return {};
    std::vector<Tensor> target_grads = run_grad(roots, seeds, targets, false, false);
    // Back in the node's input order (inputs, then parameters); undefined where none.
    std::vector<Tensor> result;
    size_t next_target = 0;
    for (const Tensor& fresh : fresh_inputs)
      result.push_back(fresh.defined() && fresh.requires_grad() ? target_grads[next_target++] : Tensor());
    for (const Tensor& parameter : parameters)
      result.push_back(parameter.requires_grad() ? target_grads[next_target++] : Tensor());
    return result;
  }
};

}  // namespace

std::vector<Tensor> recomputed(const Segment& segment, const std::vector<Tensor>& inputs,
                               const std::vector<Tensor>& parameters) {
  std::vector<Tensor> node_inputs = inputs;
  node_inputs.insert(node_inputs.end(), parameters.begin(), parameters.end());
  if (!any_requires_grad(node_inputs)) return segment(inputs);
  std::vector<Tensor> results;
  {
    NoGradGuard not_recorded;
    results = segment(inputs);
  }
  auto node = std::make_shared<RecomputeNode>();
  std::vector<Tensor> flat;
  int64_t offset = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    PackedOutput out;
    if (results[i].defined()) {
      const Tensor& first = flat.empty() ? results[i] : flat.front();
      FT_CHECK(is_floating(results[i].dtype()) && results[i].dtype() == first.dtype(),
               "a recomputed segment's outputs must be floating and of one dtype; output {} is {} (first: {})", i,
               dtype_name(results[i].dtype()), dtype_name(first.dtype()));
      out = {results[i].shape(), offset, results[i].numel(), true};
      offset += out.numel;
      flat.push_back(results[i].reshape({results[i].numel()}));
    }
    node->outputs.push_back(out);
  }
  if (flat.empty()) return results;
  Tensor packed;
  {
    NoGradGuard not_recorded;
    packed = flat.size() == 1 ? flat.front().contiguous() : concat(flat, 0);
  }
  node->segment = segment;
  node->inputs = inputs;
  node->parameters = parameters;
  node->autocast = autocast_dtype();
  attach_node(packed, node, node_inputs);
  for (size_t i = 0; i < results.size(); ++i) {
    const PackedOutput& out = node->outputs[i];
    if (out.defined) results[i] = packed.slice(0, out.offset, out.offset + out.numel).reshape(out.shape);
  }
  return results;
}

}  // namespace ft
