// The flow interface. A flow layer maps x -> (y, logdet) with logdet per example
// ([N], same dtype as x) and has an exact inverse y -> x. Models add a prior and
// report log-likelihoods per example.
#pragma once
#include <functional>
#include <string>

#include "framework/nn/module.h"

namespace ft::layers {

// Averages a statistics tensor across data-parallel replicas in place. Single
// process training leaves it empty.
using StatisticsAverager = std::function<void(Tensor&)>;

struct FlowResult {
  Tensor y;
  Tensor logdet;  // [N]
};

class FlowLayer : public nn::Module {
 public:
  virtual FlowResult forward(const Tensor& x) = 0;
  virtual Tensor inverse(const Tensor& y) = 0;
  // The inverse with its log-determinant log|det dx/dy| per example. By default one
  // more forward over the reconstructed x (exact, at the cost of that forward); layers
  // whose log-determinant is cheap from y override it.
  virtual FlowResult inverse_with_logdet(const Tensor& y);
  virtual std::string kind() const = 0;
};

// Adds a per-example log-determinant to a running one (either may be undefined).
Tensor add_logdet(const Tensor& total, const Tensor& term);

}  // namespace ft::layers
