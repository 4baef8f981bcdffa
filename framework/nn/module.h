// Module: a tree of named parameters, buffers and children. Names are dotted
// paths ("blocks.0.attention.qkv.weight") in registration order, which is the
// order flat arenas and checkpoints use.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "framework/core/tensor.h"

namespace ft::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;  // parameters are registered by address
  Module& operator=(const Module&) = delete;

  NamedTensors named_parameters() const;
  std::vector<Tensor> parameters() const;
  NamedTensors named_buffers() const;
  // Parameters then buffers, by dotted name.
  std::map<std::string, Tensor> state_dict() const;
  // Copies values into the registered tensors; shapes must match. With strict,
  // a missing or an unexpected key is an error naming it.
  void load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);
  int64_t parameter_count() const;
  // The device of the parameters (Module::to puts them all on one); cpu without any.
  Device device() const;

  // Every registered parameter slot, so data-parallel code can rebind a
  // parameter to a view of a flat arena.
  std::vector<std::pair<std::string, Tensor*>> parameter_slots();

  // Converts every floating parameter and buffer to dtype (f64 for exact tests).
  void to_dtype(DType dtype);
  // Moves every parameter, buffer and constant to device.
  void to(Device device);

  // Every module of the tree below this one (depth first, registration order) that
  // is an M: how a model reaches layers of one kind wherever a user stacked them.
  template <class M>
  std::vector<std::shared_ptr<M>> find_modules() const {
    std::vector<std::shared_ptr<M>> found;
    for (const auto& [name, child] : children_) {
      if (auto match = std::dynamic_pointer_cast<M>(child)) found.push_back(match);
      for (auto& deeper : child->template find_modules<M>()) found.push_back(std::move(deeper));
    }
    return found;
  }

  void set_training(bool training);
  bool training() const { return training_; }
  void zero_grad();

 protected:
  void register_parameter(const std::string& name, Tensor* slot);  // marks it requires_grad
  void register_buffer(const std::string& name, Tensor* slot);
  // A tensor the module computes with but that is no state (PyTorch's non-persistent
  // buffer): it moves with to(device), and is in no state dict or checkpoint.
  void register_constant(const std::string& name, Tensor* slot);
  // An empty name registers the child transparently: its parameters, buffers and
  // constants keep their own names, with no prefix (a wrapper that must not change
  // the names a file format fixed).
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> child) {
    children_.emplace_back(name, child);
    return child;
  }

 private:
  enum class SlotKind { parameter, buffer, constant };
  void collect(const std::string& prefix, SlotKind kind, std::vector<std::pair<std::string, Tensor*>>& out) const;
  std::vector<std::pair<std::string, Tensor*>> params_, buffers_, constants_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace ft::nn
