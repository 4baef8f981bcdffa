// An invertible residual block (i-ResNet, Behrmann et al. 2019; Residual Flows, Chen
// et al. 2019) as a Transform: forward y = x + g(x) with Lip(g) < 1 (lipschitz_network.h),
// over vectors [N, D] or images [N, C, H, W].
//
// The log-determinant (residual_logdet.h) is one of
//   exact         the brute-force Jacobian, for small examples (2-D toys);
//   power_series  the series truncated at `terms` terms with Hutchinson's estimator
//                 (i-ResNet; biased, less so as terms grow);
//   roulette      the unbiased Russian-roulette series (Residual Flows): exact_terms
//                 terms always, then a random number; in eval mode eval_exact_terms
//                 always, for a lower-variance estimate.
// In training, neumann_gradient takes the gradient from the Neumann series, keeping
// the graph of one vector-Jacobian product instead of one per term.
//
// Random draws: each example's probe and series length come from the block's stream,
// keyed by the example's index (normal_per_example), so a batch split across ranks
// draws what one rank would, and a resumed run what the uninterrupted one did
// (stream_transform.h).
//
// The inverse solves x = y - g(x) by fixed-point iteration (a contraction): it stops
// when every element moved by at most inverse_tolerance * (1 + |y|), and fails after
// inverse_iterations naming the block and the remaining change. It carries no
// gradient: differentiating through an inverse is refused.
#pragma once
#include <memory>
#include <string>

#include "layers/flows/lipschitz_network.h"
#include "layers/flows/residual_logdet.h"
#include "layers/flows/stream_transform.h"
#include "layers/flows/trace_probe.h"

namespace ft::layers::flows {

enum class LogdetEstimator { exact, power_series, roulette };

struct ResidualBlockOptions {
  LogdetEstimator estimator = LogdetEstimator::roulette;
  TraceProbe probe = TraceProbe::gaussian;
  int64_t terms = 5;  // power_series
  RouletteOptions roulette;
  int64_t eval_exact_terms = 20;  // roulette in eval mode
  bool neumann_gradient = true;
  double inverse_tolerance = 1e-5;
  int64_t inverse_iterations = 1000;
  void validate(const std::string& who) const;
};

LogdetEstimator parse_logdet_estimator(const std::string& name, const std::string& key);
SeriesLength parse_series_length(const std::string& name, const std::string& key);

class ResidualBlock : public StreamTransform {
 public:
  // label names the block in errors ("model.transforms[3]", "scale 1, block 4").
  ResidualBlock(std::shared_ptr<LipschitzNetwork> net, ResidualBlockOptions options, std::string label);
  TransformResult forward(const Tensor& x, const Tensor& context) override;
  TransformResult inverse(const Tensor& y, const Tensor& context) override;
  const ResidualBlockOptions& options() const { return options_; }
  LipschitzNetwork& net() { return *net_; }
  // The series length of each example of the last forward (roulette; empty otherwise).
  const std::vector<int64_t>& last_lengths() const { return last_lengths_; }

 private:
  Tensor logdet(const Tensor& g, const Tensor& x, bool create_graph);
  // Probes [like x] and, for the roulette, the examples' series lengths.
  Tensor draw_probes(const Tensor& x, std::vector<int64_t>* lengths);
  Tensor fixed_point(const Tensor& y);
  std::shared_ptr<LipschitzNetwork> net_;
  ResidualBlockOptions options_;
  std::string label_;
  std::vector<int64_t> last_lengths_;
};

}  // namespace ft::layers::flows
