#include "layers/flows/stochastic_transform.h"

#include <algorithm>
#include <cmath>

#include "framework/core/check.h"

namespace ft::layers::flows {

namespace {

// The standard normal distribution function, kept inside (0, 1).
double normal_cdf(double z) { return std::clamp(0.5 * std::erfc(-z / std::sqrt(2.0)), 1e-16, 1.0 - 1e-16); }

}  // namespace

TraceProbe parse_trace_probe(const std::string& name, const std::string& key) {
  if (name == "gaussian") return TraceProbe::gaussian;
  if (name == "rademacher") return TraceProbe::rademacher;
  FT_FAIL("{} is \"{}\"; expected gaussian or rademacher", key, name);
}

Tensor StochasticTransform::draw_probes(const Shape& shape, DType dtype, Device device, TraceProbe probe,
                                        std::vector<double>* uniforms) {
  FT_CHECK(!shape.empty() && shape[0] > 0, "draw_probes: shape {} has no examples", shape_str(shape));
  int64_t n = shape[0], d = numel_of(shape) / n;
  // One row per example: d probe values, then the draw behind its uniform.
  std::vector<double> draws = normal_per_example(n, {d + 1}, gen_, DType::f32).to_double_vector();
  std::vector<double> probes(size_t(n * d));
  for (int64_t e = 0; e < n; ++e) {
    const double* row = draws.data() + e * (d + 1);
    for (int64_t i = 0; i < d; ++i)
      probes[size_t(e * d + i)] = probe == TraceProbe::gaussian ? row[i] : (row[i] < 0.0 ? -1.0 : 1.0);
    if (uniforms) uniforms->push_back(normal_cdf(row[d]));
  }
  return Tensor::from_vector(probes, shape).to(dtype).to(device);
}

Tensor StochasticTransform::graph_input(const Tensor& x, bool outer_grad) {
  if (outer_grad && x.requires_grad()) return x;
  Tensor leaf = x.detach();
  leaf.set_requires_grad(true);
  return leaf;
}

}  // namespace ft::layers::flows
