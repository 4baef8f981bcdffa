#include "framework/autograd/node.h"

#include <atomic>

#include "framework/autograd/grad_mode.h"
#include "framework/kernels/kernels.h"

namespace ft {

namespace {
thread_local bool tls_grad_enabled = true;
std::atomic<uint64_t> next_sequence{1};
}  // namespace

bool grad_enabled() { return tls_grad_enabled; }
void set_grad_enabled(bool enabled) { tls_grad_enabled = enabled; }

Node::~Node() {
  std::vector<std::shared_ptr<Node>> pending = std::move(next);
  while (!pending.empty()) {
    std::shared_ptr<Node> node = std::move(pending.back());
    pending.pop_back();
    if (node && node.use_count() == 1) {
      for (auto& edge : node->next) pending.push_back(std::move(edge));
      node->next.clear();
    }
  }
}

AccumulateGrad::AccumulateGrad(const std::shared_ptr<TensorImpl>& leaf_impl) : leaf(leaf_impl) {}

std::vector<Tensor> AccumulateGrad::backward(const Tensor& grad_output, bool /*create_graph*/) {
  auto impl = leaf.lock();
  if (!impl) return {};
  FT_CHECK(grad_output.shape() == impl->shape, "gradient of shape {} for a leaf of shape {}",
           shape_str(grad_output.shape()), shape_str(impl->shape));
  if (!impl->grad) {
    impl->grad = kernels::copy(grad_output.to(impl->dtype)).impl_ptr();  // dense and unaliased
  } else {
    Tensor accumulated(impl->grad);
    kernels::add_inplace(accumulated, grad_output, 1.0);
  }
  Tensor grad(impl->grad);
  for (auto& hook : impl->grad_ready_hooks) hook(grad);
  return {};
}

std::shared_ptr<Node> edge_of(const Tensor& input) {
  if (!input.defined() || !input.requires_grad()) return nullptr;
  TensorImpl& impl = input.impl();
  if (impl.grad_fn) return impl.grad_fn;
  if (!impl.grad_accumulator) impl.grad_accumulator = std::make_shared<AccumulateGrad>(input.impl_ptr());
  return impl.grad_accumulator;
}

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

void attach_node(Tensor& output, std::shared_ptr<Node> node, const std::vector<Tensor>& inputs) {
  node->next.reserve(inputs.size());
  for (const Tensor& input : inputs) node->next.push_back(edge_of(input));
  node->sequence = next_sequence.fetch_add(1, std::memory_order_relaxed);
  TensorImpl& impl = output.impl();
  impl.grad_fn = std::move(node);
  impl.requires_grad = true;
}

}  // namespace ft
