#include "framework/nn/module.h"

#include <set>

namespace ft::nn {

void Module::register_parameter(const std::string& name, Tensor* slot) {
  FT_CHECK(slot->defined(), "parameter '{}' registered before it was created", name);
  slot->set_requires_grad(true);
  params_.emplace_back(name, slot);
}

void Module::register_buffer(const std::string& name, Tensor* slot) {
  FT_CHECK(slot->defined(), "buffer '{}' registered before it was created", name);
  buffers_.emplace_back(name, slot);
}

void Module::register_constant(const std::string& name, Tensor* slot) {
  FT_CHECK(slot->defined(), "constant '{}' registered before it was created", name);
  constants_.emplace_back(name, slot);
}

void Module::collect(const std::string& prefix, SlotKind kind,
                     std::vector<std::pair<std::string, Tensor*>>& out) const {
  const auto& own = kind == SlotKind::parameter ? params_ : kind == SlotKind::buffer ? buffers_ : constants_;
  for (const auto& [name, slot] : own) out.emplace_back(prefix + name, slot);
  for (const auto& [name, child] : children_) child->collect(name.empty() ? prefix : prefix + name + ".", kind, out);
}

std::vector<std::pair<std::string, Tensor*>> Module::parameter_slots() {
  std::vector<std::pair<std::string, Tensor*>> out;
  collect("", SlotKind::parameter, out);
  return out;
}

NamedTensors Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor*>> slots;
  collect("", SlotKind::parameter, slots);
  NamedTensors out;
  for (auto& [name, slot] : slots) out.emplace_back(name, *slot);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

NamedTensors Module::named_buffers() const {
  std::vector<std::pair<std::string, Tensor*>> slots;
  collect("", SlotKind::buffer, slots);
  NamedTensors out;
  for (auto& [name, slot] : slots) out.emplace_back(name, *slot);
  return out;
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::map<std::string, Tensor> out;
  for (auto& [name, t] : named_parameters()) out.emplace(name, t);
  for (auto& [name, t] : named_buffers()) out.emplace(name, t);
  return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  std::vector<std::pair<std::string, Tensor*>> slots;
  collect("", SlotKind::parameter, slots);
  collect("", SlotKind::buffer, slots);
  std::set<std::string> used;
  for (auto& [name, slot] : slots) {
    auto it = state.find(name);
    if (it == state.end()) {
      FT_CHECK(!strict, "state dict is missing '{}'", name);
      continue;
    }
    FT_CHECK(it->second.shape() == slot->shape(), "state dict '{}' has shape {} but the module expects {}", name,
             shape_str(it->second.shape()), shape_str(slot->shape()));
    slot->copy_(it->second);
    used.insert(name);
  }
  if (strict)
    for (auto& [name, t] : state) FT_CHECK(used.count(name), "state dict has unexpected key '{}'", name);
}

int64_t Module::parameter_count() const {
  int64_t n = 0;
  for (auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

void Module::to_dtype(DType dtype) {
  std::vector<std::pair<std::string, Tensor*>> params, buffers;
  collect("", SlotKind::parameter, params);
  collect("", SlotKind::buffer, buffers);
  for (auto& [name, slot] : params) {
    if (slot->dtype() == dtype) continue;
    *slot = slot->detach().to(dtype);
    slot->set_requires_grad(true);
  }
  for (auto& [name, slot] : buffers)
    if (is_floating(slot->dtype()) && slot->dtype() != dtype) *slot = slot->to(dtype);
}

Device Module::device() const {
  std::vector<std::pair<std::string, Tensor*>> params;
  collect("", SlotKind::parameter, params);
  return params.empty() ? Device::cpu() : params.front().second->device();
}

void Module::to(Device device) {
  std::vector<std::pair<std::string, Tensor*>> params, others;
  collect("", SlotKind::parameter, params);
  collect("", SlotKind::buffer, others);
  collect("", SlotKind::constant, others);
  for (auto& [name, slot] : params) {
    if (slot->device() == device) continue;
    *slot = slot->detach().to(device);  // a new leaf on device
    slot->set_requires_grad(true);
  }
  for (auto& [name, slot] : others) *slot = slot->detach().to(device);
}

void Module::set_training(bool training) {
  training_ = training;
  for (auto& [name, child] : children_) child->set_training(training);
}

void Module::zero_grad() {
  std::vector<std::pair<std::string, Tensor*>> slots;
  collect("", SlotKind::parameter, slots);
  for (auto& [name, slot] : slots) {
    Tensor g = slot->grad();
    if (g.defined()) g.zero_();
  }
}

}  // namespace ft::nn
