#pragma once
#include "framework/random/generator.h"
#include "layers/flow.h"
#include "layers/glow/glow_config.h"

namespace ft::layers {

// Invertible 1x1 convolution. W starts as the Q of a Gaussian matrix's QR.
// LU form: W = P (L*strict_lower + I)(U*strict_upper + diag(sign_s * exp(log_s)))
// with P and sign_s fixed; logdet = H*W*sum(log_s). Plain form: W itself is the
// parameter and logdet = H*W*log|det W| (computed in f64).
class InvertibleConv1x1 : public FlowLayer {
 public:
  InvertibleConv1x1(int64_t channels, Permutation form, Generator& gen);
  FlowResult forward(const Tensor& x) override;
  Tensor inverse(const Tensor& y) override;
  FlowResult inverse_with_logdet(const Tensor& y) override;
  std::string kind() const override { return form_ == Permutation::lu ? "invconv_lu" : "invconv"; }
  Tensor weight_matrix() const;  // W [C, C]
  Tensor log_abs_det() const;    // log|det W| as a scalar tensor

  Tensor weight;                      // plain form
  Tensor lower, upper, log_s;         // LU form (parameters)
  Tensor permutation, sign_s;         // LU form (fixed buffers)

 private:
  Permutation form_;
  int64_t channels_;
  Tensor lower_mask_, upper_mask_, identity_;  // constants, not state
};

}  // namespace ft::layers
