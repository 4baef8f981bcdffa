// The nflows-style Transform API. Direction: forward maps data to noise
// (x -> z, log|det dz/dx|), inverse maps noise to data (z -> x, log|det dx/dz|),
// so a flow's log p(x) = log p_base(forward(x).y) + forward(x).logabsdet.
// logabsdet is per example, [N], in the input's dtype. Context is optional: an
// undefined tensor means none; conditional transforms take it as [N, context_features].
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "framework/nn/module.h"

namespace ft::layers::flows {

struct TransformResult {
  Tensor y;
  Tensor logabsdet;  // [N]
};

class Transform : public nn::Module {
 public:
  virtual TransformResult forward(const Tensor& x, const Tensor& context) = 0;
  virtual TransformResult inverse(const Tensor& y, const Tensor& context) = 0;
  // Loss terms of the last training forward, weighted, per example [N], handed over
  // once (RNODE's integrals, DDNF's regularisers); undefined: none. The model
  // subtracts them from log p(x) in training.
  virtual Tensor take_regularisation() { return Tensor(); }
};

using NamedTransforms = std::vector<std::pair<std::string, std::shared_ptr<Transform>>>;

// Applies its transforms in order in forward, in reverse order in inverse.
class CompositeTransform : public Transform {
 public:
  // Registered as "0", "1", ...
  explicit CompositeTransform(std::vector<std::shared_ptr<Transform>> transforms);
  // Registered under the given names (Glow's "squeeze", "steps.0", ...).
  explicit CompositeTransform(const NamedTransforms& transforms);
  TransformResult forward(const Tensor& x, const Tensor& context) override;
  TransformResult inverse(const Tensor& y, const Tensor& context) override;
  // true: in forward, each transform with parameters is one recomputed segment
  // (framework/autograd/recompute.h): its activations are not kept for backward,
  // which runs it again. Transforms without parameters (squeezes, patchify) run as
  // they are. The transforms must not draw random numbers in forward.
  void set_recompute(bool enabled) { recompute_ = enabled; }

 private:
  std::vector<std::shared_ptr<Transform>> transforms_;
  bool recompute_ = false;
};

// Swaps forward and inverse of another transform (IAF is an inverted MAF).
class InverseTransform : public Transform {
 public:
  explicit InverseTransform(std::shared_ptr<Transform> transform);
  TransformResult forward(const Tensor& x, const Tensor& context) override { return inner_->inverse(x, context); }
  TransformResult inverse(const Tensor& y, const Tensor& context) override { return inner_->forward(y, context); }

 private:
  std::shared_ptr<Transform> inner_;
};

// Throws a one-line error naming the sizes unless context is [x.size(0), features]
// (features 0: the transform takes no context and context must be undefined).
void check_context(const Tensor& context, int64_t features, const Tensor& x);
// Throws unless x is [N, features] (named by `who`).
void check_features(const Tensor& x, int64_t features, const char* who);
// Per-example sum over every dim but the first.
Tensor sum_except_batch(const Tensor& x);

}  // namespace ft::layers::flows
