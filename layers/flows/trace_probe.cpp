#include "layers/flows/trace_probe.h"

#include "framework/core/check.h"
#include "framework/ops/ops.h"

namespace ft::layers::flows {

TraceProbe parse_trace_probe(const std::string& name, const std::string& key) {
  if (name == "gaussian") return TraceProbe::gaussian;
  if (name == "rademacher") return TraceProbe::rademacher;
  FT_FAIL("{} is \"{}\"; expected gaussian or rademacher", key, name);
}

Tensor draw_probes_like(const Tensor& x, TraceProbe probe, Generator& gen) {
  Shape example(x.shape().begin() + 1, x.shape().end());
  std::vector<double> values = normal_per_example(x.size(0), example, gen, DType::f32).to_double_vector();
  if (probe == TraceProbe::rademacher)
    for (double& v : values) v = v < 0.0 ? -1.0 : 1.0;
  return Tensor::from_vector(values, x.shape()).to(x.dtype()).to(x.device());
}

}  // namespace ft::layers::flows
