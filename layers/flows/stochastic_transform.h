// A transform whose forward draws random numbers (Hutchinson probes, series lengths):
// per example, keyed by the example's index (normal_per_example), from a stream the
// model sets each step (ComposedFlowModel::set_forward_generator), so a batch split
// across ranks draws what one rank would, and a resumed run what the uninterrupted one
// did. A transform never given a stream starts at stream 0, offset 0.
#pragma once
#include <string>
#include <vector>

#include "framework/random/generator.h"
#include "layers/flows/transform.h"

namespace ft::layers::flows {

// Hutchinson's probes: E[v v^T] = I.
enum class TraceProbe { gaussian, rademacher };
TraceProbe parse_trace_probe(const std::string& name, const std::string& key);

class StochasticTransform : public Transform {
 public:
  void set_generator(const Generator& gen) { gen_ = gen; }

 protected:
  // Probes of `shape` (shape[0] examples) in dtype on device and, when `uniforms` is
  // given, one more draw per example mapped to a uniform in (0, 1). One call per
  // forward: a second would start at the next examples' indices, which other ranks use.
  Tensor draw_probes(const Shape& shape, DType dtype, Device device, TraceProbe probe,
                     std::vector<double>* uniforms = nullptr);
  // x as the start of a graph that vector-Jacobian products can differentiate: x
  // itself when the caller's graph continues through it (outer grad mode on and x
  // requiring grad), else a detached leaf that requires grad.
  static Tensor graph_input(const Tensor& x, bool outer_grad);

 private:
  Generator gen_;
};

}  // namespace ft::layers::flows
