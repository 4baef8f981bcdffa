#include "framework/autograd/engine.h"

#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "framework/autograd/grad_mode.h"
#include "framework/autograd/node.h"
#include "framework/kernels/kernels.h"

namespace ft {

void run_backward(const Tensor& root, const Tensor& gradient, bool retain_graph) {
  FT_CHECK(root.requires_grad(), "backward on a tensor that does not require grad");
  Tensor seed = gradient;
  if (!seed.defined()) {
    FT_CHECK(root.numel() == 1, "backward without a gradient needs a scalar, got shape {}",
             shape_str(root.shape()));
    seed = Tensor::ones(root.shape(), root.dtype(), root.device());
  }
  FT_CHECK(seed.shape() == root.shape(), "backward gradient of shape {} for a root of shape {}",
           shape_str(seed.shape()), shape_str(root.shape()));
  std::shared_ptr<Node> root_node = edge_of(root);

  // Count, for every reachable node, how many edges lead into it.
  std::unordered_map<Node*, int> pending_inputs;
  std::vector<Node*> stack{root_node.get()};
  std::unordered_set<Node*> seen{root_node.get()};
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    for (auto& next : node->next) {
      if (!next) continue;
      pending_inputs[next.get()]++;
      if (seen.insert(next.get()).second) stack.push_back(next.get());
    }
  }

  // Run nodes whose inputs are all in, latest-created first, so that parameter
  // gradients complete in reverse layer order (what bucketed all-reduce wants).
  NoGradGuard no_grad;
  std::priority_queue<std::pair<uint64_t, Node*>> ready;
  std::unordered_map<Node*, Tensor> grads;
  grads[root_node.get()] = seed.detach();
  ready.push({root_node->sequence, root_node.get()});
  while (!ready.empty()) {
    Node* node = ready.top().second;
    ready.pop();
    Tensor grad_output = std::move(grads[node]);
    grads.erase(node);
    std::vector<Tensor> input_grads;
    if (grad_output.defined()) {
      FT_CHECK(!node->released, "backward through {} a second time; its graph was freed (retain_graph)",
               node->name());
      input_grads = node->backward(grad_output);
      FT_CHECK(input_grads.empty() || input_grads.size() == node->next.size(),
               "{} returned {} gradients for {} inputs", node->name(), input_grads.size(),
               node->next.size());
    }
    for (size_t i = 0; i < node->next.size(); ++i) {
      Node* next = node->next[i].get();
      if (!next) continue;
      if (i < input_grads.size() && input_grads[i].defined()) {
        Tensor& slot = grads[next];
        if (!slot.defined()) {
          slot = input_grads[i];
        } else {
          slot = kernels::add(slot, input_grads[i]);
        }
      }
      if (--pending_inputs[next] == 0) ready.push({next->sequence, next});
    }
    if (!retain_graph && !dynamic_cast<AccumulateGrad*>(node)) {
      node->release_saved();
      node->released = true;
    }
  }
}

}  // namespace ft
