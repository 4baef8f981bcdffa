#include "framework/autograd/engine.h"

#include <algorithm>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "framework/autograd/grad_mode.h"
#include "framework/autograd/node.h"
#include "framework/kernels/kernels.h"
#include "framework/ops/ops.h"

namespace ft {

namespace {

// What one walk over the graph does: which nodes run, which gradients it keeps.
struct Walk {
  std::vector<std::shared_ptr<Node>> roots;
  std::vector<Tensor> seeds;
  std::unordered_set<Node*> targets;  // empty: accumulate into every leaf (backward)
  bool create_graph = false;
  bool retain_graph = false;
};

Tensor seed_for(const Tensor& root, const Tensor& gradient, bool keep_graph) {
  FT_CHECK(root.defined() && root.requires_grad(), "a gradient of a tensor that does not require grad");
  Tensor seed = gradient;
  if (!seed.defined()) {
    FT_CHECK(root.numel() == 1, "a gradient without grad_outputs needs a scalar, got shape {}",
             shape_str(root.shape()));
    seed = Tensor::ones(root.shape(), root.dtype(), root.device());
  }
  FT_CHECK(seed.shape() == root.shape(), "gradient of shape {} for a root of shape {}", shape_str(seed.shape()),
           shape_str(root.shape()));
  return keep_graph ? seed : seed.detach();
}

std::vector<Node*> reachable_nodes(const std::vector<std::shared_ptr<Node>>& roots) {
  std::vector<Node*> order, stack;
  std::unordered_set<Node*> seen;
  for (const auto& root : roots)
    if (seen.insert(root.get()).second) stack.push_back(root.get());
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    order.push_back(node);
    for (auto& next : node->next)
      if (next && seen.insert(next.get()).second) stack.push_back(next.get());
  }
  return order;
}

// The nodes from which some target is reachable through at least one edge: the ones
// whose backward a gradient with respect to the targets needs.
std::unordered_set<Node*> nodes_leading_to(const std::vector<Node*>& nodes, const std::unordered_set<Node*>& targets) {
  std::unordered_set<Node*> leading;
  // A node's inputs were created before it: in increasing sequence order every
  // input is decided before the nodes that use it.
  std::vector<Node*> by_sequence = nodes;
  std::sort(by_sequence.begin(), by_sequence.end(), [](Node* a, Node* b) { return a->sequence < b->sequence; });
  for (Node* node : by_sequence)
    for (auto& next : node->next)
      if (next && (targets.count(next.get()) || leading.count(next.get()))) {
        leading.insert(node);
        break;
      }
  return leading;
}

Tensor accumulate(const Tensor& slot, const Tensor& grad, bool create_graph) {
  if (!slot.defined()) return grad;
  return create_graph ? add(slot, grad) : kernels::add(slot, grad);
}

std::unordered_map<Node*, Tensor> run_walk(const Walk& walk) {
  // backward runs every reachable node; grad only those that lead to an input.
  const bool runs_everything = walk.targets.empty();
  std::vector<Node*> nodes = reachable_nodes(walk.roots);
  const std::unordered_set<Node*> leading =
      runs_everything ? std::unordered_set<Node*>{} : nodes_leading_to(nodes, walk.targets);
  auto runs = [&](Node* node) { return runs_everything || leading.count(node) > 0; };
  auto receives = [&](Node* node) { return runs(node) || walk.targets.count(node) > 0; };

  // Count, for every node that receives gradients, how many running edges lead into it.
  std::unordered_map<Node*, int> pending_inputs;
  for (Node* node : nodes) {
    if (!runs(node)) continue;
    for (auto& next : node->next)
      if (next && receives(next.get())) pending_inputs[next.get()]++;
  }

  // Run nodes whose inputs are all in, latest-created first, so that parameter
  // gradients complete in reverse layer order (what bucketed all-reduce wants).
  GradModeGuard grad_mode(walk.create_graph);
  std::priority_queue<std::pair<uint64_t, Node*>> ready;
  std::unordered_map<Node*, Tensor> grads, captured;
  std::unordered_set<Node*> seeded;
  for (size_t i = 0; i < walk.roots.size(); ++i) {
    Node* root = walk.roots[i].get();
    if (!receives(root)) continue;
    grads[root] = accumulate(grads[root], walk.seeds[i], walk.create_graph);
    // A root another root depends on waits for its edges like any node.
    if (seeded.insert(root).second && pending_inputs[root] == 0) ready.push({root->sequence, root});
  }
  while (!ready.empty()) {
    Node* node = ready.top().second;
    ready.pop();
    Tensor grad_output = std::move(grads[node]);
    grads.erase(node);
    if (walk.targets.count(node)) captured[node] = grad_output;
    if (!runs(node)) continue;
    std::vector<Tensor> input_grads;
    if (grad_output.defined()) {
      FT_CHECK(!node->released, "backward through {} a second time; its graph was freed (retain_graph)",
               node->name());
      input_grads = node->backward(grad_output, walk.create_graph);
      FT_CHECK(input_grads.empty() || input_grads.size() == node->next.size(),
               "{} returned {} gradients for {} inputs", node->name(), input_grads.size(), node->next.size());
    }
    for (size_t i = 0; i < node->next.size(); ++i) {
      Node* next = node->next[i].get();
      if (!next || !receives(next)) continue;
      if (i < input_grads.size() && input_grads[i].defined())
        grads[next] = accumulate(grads[next], input_grads[i], walk.create_graph);
      if (--pending_inputs[next] == 0) ready.push({next->sequence, next});
    }
    if (!walk.retain_graph && !dynamic_cast<AccumulateGrad*>(node)) {
      node->release_saved();
      node->released = true;
    }
  }
  return captured;
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& gradient, bool retain_graph) {
  FT_CHECK(root.requires_grad(), "backward on a tensor that does not require grad");
  Walk walk;
  walk.roots = {edge_of(root)};
  walk.seeds = {seed_for(root, gradient, false)};
  walk.retain_graph = retain_graph;
  run_walk(walk);
}

std::vector<Tensor> run_grad(const std::vector<Tensor>& roots, const std::vector<Tensor>& seeds,
                             const std::vector<Tensor>& inputs, bool create_graph, bool retain_graph) {
  FT_CHECK(!roots.empty(), "a gradient of no outputs");
  FT_CHECK(seeds.empty() || seeds.size() == roots.size(), "{} grad_outputs for {} outputs", seeds.size(),
           roots.size());
  Walk walk;
  walk.create_graph = create_graph;
  walk.retain_graph = retain_graph || create_graph;
  for (size_t i = 0; i < roots.size(); ++i) {
    walk.roots.push_back(edge_of(roots[i]));
    walk.seeds.push_back(seed_for(roots[i], seeds.empty() ? Tensor() : seeds[i], create_graph));
  }
  std::vector<Node*> input_nodes;
  for (size_t i = 0; i < inputs.size(); ++i) {
    FT_CHECK(inputs[i].defined() && inputs[i].requires_grad(),
             "a gradient with respect to input {}, which does not require grad", i);
    input_nodes.push_back(edge_of(inputs[i]).get());
    walk.targets.insert(input_nodes.back());
  }
  std::unordered_map<Node*, Tensor> captured = run_walk(walk);
  std::vector<Tensor> result;
  for (Node* node : input_nodes) {
    auto it = captured.find(node);
    result.push_back(it == captured.end() ? Tensor() : it->second);
  }
  return result;
}

}  // namespace ft
