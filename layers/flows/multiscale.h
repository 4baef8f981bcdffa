// The multiscale architecture (Dinh et al. 2017, section 3.6; Glow's multi-scale with
// learned priors, Kingma & Dhariwal 2018) as one Transform from images [N, C, H, W] to
// vectors [N, D], D = C*H*W. Each level is a transform over its input image (squeezes
// included: the builder puts FlowLayerTransform(Squeeze) where its architecture has
// them). After every level but the last, half of the channels is factored out: the
// first half goes on to the next level, the second half is whitened by its prior and
// leaves. Priors, each chosen for the splits and for the top:
//   standard_normal  RealNVP: the part leaves as it is
//   learned          Glow: N(mu, sigma) from a zero-initialised conv of the kept half
//                    (layers/glow SplitPrior) at a split, Glow's top prior (TopPrior,
//                    as LearnedTopOptions says) after the last level
// Only a class-conditional learned top reads a context: one-hot labels
// [N, num_classes]; the levels and the splits are unconditional.
// A learned prior is applied as the affine whitening (z - mu) / sigma with logabsdet
// -sum log sigma, so the output is standard normal under the model and
// Flow(multiscale, StandardNormal(D)) has exactly the log-likelihood of the priors.
// Output layout: [factored half of level 0, of level 1, ..., the last level's output],
// each flattened per example in (C, H, W) order (the order of Glow's latents).
#pragma once
#include <memory>
#include <vector>

#include "framework/random/generator.h"
#include "layers/flows/transform.h"
#include "layers/glow/priors.h"

namespace ft::layers::flows {

enum class MultiscalePrior { standard_normal, learned };

// Glow's top prior when the top is learned: learn_top adds its zero-initialised conv
// (false: mean and log-scale start from zeros), num_classes > 0 its zero-initialised
// embedding of the one-hot label context.
struct LearnedTopOptions {
  bool learn_top = true;
  int64_t num_classes = 0;
};

struct MultiscaleLevel {
  std::shared_ptr<Transform> transform;
  Shape output;  // [C, H, W] its transform gives
};

class MultiscaleTransform : public Transform {
 public:
  // input: [C, H, W]; the levels in order, each taking the previous one's kept half.
  MultiscaleTransform(const Shape& input, std::vector<MultiscaleLevel> levels, MultiscalePrior split_prior,
                      MultiscalePrior top_prior, Generator& gen, LearnedTopOptions top_options = {});
  TransformResult forward(const Tensor& x, const Tensor& context) override;  // [N, C, H, W] -> [N, D]
  TransformResult inverse(const Tensor& y, const Tensor& context) override;  // [N, D] -> [N, C, H, W]
  int64_t features() const;  // D
  const Shape& input_shape() const { return input_; }
  size_t level_count() const { return levels_.size(); }
  // The [C, H, W] of what level i sends to the output.
  Shape output_part(size_t level) const;
  // An output [N, D] as its parts, one image [N, C, H, W] per level, and back.
  std::vector<Tensor> split_output(const Tensor& y) const;
  Tensor join_output(const std::vector<Tensor>& parts) const;

 private:
  struct Level {
    std::shared_ptr<Transform> transform;
    Shape input, output;
    std::shared_ptr<SplitPrior> split_prior;  // null without a split or a learned prior
  };
  bool has_split(size_t level) const { return level + 1 < levels_.size(); }
  GaussianParams split_params(size_t level, const Tensor& kept) const;
  GaussianParams top_params(const Tensor& like, const Tensor& context) const;
  Shape input_;
  int64_t context_features_ = 0;  // the top prior's classes
  std::vector<Level> levels_;
  std::shared_ptr<TopPrior> top_prior_;  // null for a standard normal top
};

}  // namespace ft::layers::flows
