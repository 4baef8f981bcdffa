// Flow++'s logistic-mixture coupling over images [N, C, H, W] (Ho et al. 2019, eq. 7)
// with a checkerboard or channel mask (image_masks.h): the kept entries (mask 1) pass
// through exactly; each transformed entry x gets
//     y = exp(a) * logit(MixLogCDF(x; pi, mu, s)) + b          (logistic_mixture.h)
// with a = tanh(raw a) and (raw a, b, logits (K), means (K), log scales (K)) from a
// FlowppConditioner of the kept entries: its input is [x * mask, mask] (2C channels;
// the mask channels tell a transformed entry from a kept zero, which a split into
// halves, as the reference does, never has to), its output 2 + 3K parameters per
// transformed channel and position (channel-major: c, then the parameter), so a
// channel mask's conditioner only predicts the C/2 transformed channels. The
// reference splits a checkerboard's halves into two half-width images instead of
// masking (its proj_out has the same size; its position embedding is half as wide).
// The inverse bisects in f64 (logistic_mixture.h: tolerance 1e-12 relative, at most
// 100 halvings). With context_channels > 0 the context is image features
// [N, context_channels, H, W] that every gated conv adds (the dequantizer's couplings).
#pragma once
#include <memory>

#include "layers/flows/flowpp_conditioner.h"
#include "layers/flows/image_masks.h"
#include "layers/flows/logistic_mixture.h"
#include "layers/flows/transform.h"

namespace ft::layers::flows {

struct FlowppCouplingOptions {
  int64_t filters = 96, blocks = 10, heads = 4;
  int64_t components = 32;  // K, logistic mixture components
  int64_t context_channels = 0;
};

// Parameters the conditioner predicts per transformed entry: a, b and K each of logits, means, log scales.
inline int64_t flowpp_parameters_per_entry(int64_t components) { return 2 + 3 * components; }

class FlowppCoupling : public Transform {
 public:
  FlowppCoupling(ImageMask mask, int parity, int64_t channels, int64_t height, int64_t width,
                 const FlowppCouplingOptions& options, Generator& gen);
  TransformResult forward(const Tensor& x, const Tensor& context) override;
  TransformResult inverse(const Tensor& y, const Tensor& context) override;
  std::shared_ptr<FlowppConditioner> conditioner;

 private:
  TransformResult apply(const Tensor& input, const Tensor& context, bool inverse);
  LogisticMixtureCoupling parameters(const Tensor& input, const Tensor& context) const;
  Tensor transformed_part(const Tensor& x) const;
  Tensor merge(const Tensor& input, const Tensor& transformed) const;
  Tensor sum_transformed(const Tensor& per_element) const;
  void check_shapes(const Tensor& x, const Tensor& context) const;
  ImageMask kind_;
  int parity_;
  int64_t channels_, height_, width_, components_, context_channels_;
  Tensor mask_;  // constant [1, C, H, W]
};

}  // namespace ft::layers::flows
