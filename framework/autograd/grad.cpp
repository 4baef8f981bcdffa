#include "framework/autograd/grad.h"

#include "framework/autograd/engine.h"
#include "framework/autograd/grad_mode.h"

namespace ft {

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool create_graph, bool retain_graph) {
  return run_grad(outputs, grad_outputs, inputs, create_graph, retain_graph);
}

std::vector<Tensor> vjp(const Tensor& output, const std::vector<Tensor>& inputs, const Tensor& v, bool create_graph) {
  return grad({output}, inputs, {v}, create_graph, create_graph);
}

Tensor jvp(const Tensor& output, const std::vector<Tensor>& inputs, const std::vector<Tensor>& tangents,
           bool create_graph) {
  FT_CHECK(tangents.size() == inputs.size(), "jvp with {} tangents for {} inputs", tangents.size(), inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i)
    FT_CHECK(tangents[i].shape() == inputs[i].shape(), "jvp tangent {} of shape {} for an input of shape {}", i,
             shape_str(tangents[i].shape()), shape_str(inputs[i].shape()));
  // v^T J is linear in v, so its vector-Jacobian product with respect to v is J u.
  Tensor v = Tensor::zeros(output.shape(), output.dtype(), output.device());
  v.set_requires_grad(true);
  std::vector<Tensor> vjps = grad({output}, inputs, {v}, /*create_graph=*/true);
  std::vector<Tensor> used, seeds;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!vjps[i].defined() || !vjps[i].requires_grad()) continue;  // J is zero (or constant in v) there
    used.push_back(vjps[i]);
    seeds.push_back(tangents[i]);
  }
  if (used.empty()) return Tensor::zeros(output.shape(), output.dtype(), output.device());
  Tensor result = grad(used, {v}, seeds, create_graph, create_graph)[0];
  return result.defined() ? result : Tensor::zeros(output.shape(), output.dtype(), output.device());
}

std::vector<Tensor> gradients_by_recomputation(const Composite& composite, const std::vector<Tensor>& inputs,
                                               const Tensor& grad_output) {
  GradModeGuard grad_mode(true);
  std::vector<Tensor> aliases, wanted;
  for (const Tensor& input : inputs) {
    bool needed = input.defined() && input.requires_grad();
    aliases.push_back(needed ? input.expand(input.shape()) : input);
    if (needed) wanted.push_back(aliases.back());
  }
  std::vector<Tensor> found = grad({composite(aliases)}, wanted, {grad_output}, /*create_graph=*/true);
  std::vector<Tensor> result;
  size_t next = 0;
  for (const Tensor& input : inputs)
    result.push_back(input.defined() && input.requires_grad() ? found[next++] : Tensor());
  return result;
}

}  // namespace ft
