#include "layers/flows/multiscale.h"

#include <fmt/core.h>

#include "framework/ops/ops.h"

namespace ft::layers::flows {

namespace {

Shape with_batch(int64_t n, const Shape& image) { return {n, image[0], image[1], image[2]}; }

// (z - mean) / sigma, logabsdet -sum log sigma; a standard normal prior (undefined
// params) leaves z as it is.
TransformResult whiten(const Tensor& z, const GaussianParams& prior) {
  if (!prior.mean.defined()) return {z, Tensor::zeros({z.size(0)}, z.dtype(), z.device())};
  return {mul(sub(z, prior.mean), exp(neg(prior.logs))), neg(sum_except_batch(prior.logs))};
}

// The inverse of whiten: mean + sigma * noise, logabsdet +sum log sigma.
TransformResult colour(const Tensor& noise, const GaussianParams& prior) {
  if (!prior.mean.defined()) return {noise, Tensor::zeros({noise.size(0)}, noise.dtype(), noise.device())};
  return {add(prior.mean, mul(exp(prior.logs), noise)), sum_except_batch(prior.logs)};
}

void check_image(const Tensor& x, const Shape& image, const char* what, size_t level) {
  FT_CHECK(x.dim() == 4 && Shape(x.shape().begin() + 1, x.shape().end()) == image,
           "multiscale level {} {} [N, {}, {}, {}], got {}", level, what, image[0], image[1], image[2],
           shape_str(x.shape()));
}

}  // namespace

MultiscaleTransform::MultiscaleTransform(const Shape& input, std::vector<MultiscaleLevel> levels,
                                         MultiscalePrior split_prior, MultiscalePrior top_prior, Generator& gen,
                                         LearnedTopOptions top_options)
    : input_(input) {
  FT_CHECK(input.size() == 3, "a multiscale transform needs an image shape [C, H, W], got {}", shape_str(input));
  FT_CHECK(!levels.empty(), "a multiscale transform needs at least one level");
  Shape next = input;
  for (size_t i = 0; i < levels.size(); ++i) {
    const Shape& out = levels[i].output;
    FT_CHECK(out.size() == 3 && numel_of(out) == numel_of(next),
             "multiscale level {} maps {} to {}: a level keeps the number of dimensions", i, shape_str(next),
             shape_str(out));
    Level level{levels[i].transform, next, out, nullptr};
    register_module(fmt::format("levels.{}", i), level.transform);
    if (i + 1 < levels.size()) {
      FT_CHECK(out[0] % 2 == 0, "multiscale level {} gives {}: factoring out half needs an even channel count", i,
               shape_str(out));
      if (split_prior == MultiscalePrior::learned)
        level.split_prior =
            register_module(fmt::format("levels.{}.split_prior", i), std::make_shared<SplitPrior>(out[0] / 2));
      next = {out[0] / 2, out[1], out[2]};
    }
    levels_.push_back(std::move(level));
  }
  if (top_prior == MultiscalePrior::learned) {
    top_prior_ = register_module("top_prior", std::make_shared<TopPrior>(levels_.back().output[0], top_options.learn_top,
                                                                         top_options.num_classes, gen));
    context_features_ = top_options.num_classes;
  } else {
    FT_CHECK(top_options.num_classes == 0, "a standard normal top prior cannot be conditioned on {} classes",
             top_options.num_classes);
  }
}

int64_t MultiscaleTransform::features() const { return numel_of(input_); }

Shape MultiscaleTransform::output_part(size_t level) const {
  const Shape& out = levels_[level].output;
  return has_split(level) ? Shape{out[0] / 2, out[1], out[2]} : out;
}

GaussianParams MultiscaleTransform::split_params(size_t level, const Tensor& kept) const {
  const auto& prior = levels_[level].split_prior;
  return prior ? prior->forward(kept) : GaussianParams{};
}

GaussianParams MultiscaleTransform::top_params(const Tensor& like, const Tensor& context) const {
  if (!top_prior_) return {};
  return top_prior_->forward(like.size(0), like.size(2), like.size(3), context, like.dtype(), like.device());
}

std::vector<Tensor> MultiscaleTransform::split_output(const Tensor& y) const {
  check_features(y, features(), "multiscale transform");
  std::vector<int64_t> sizes;
  for (size_t i = 0; i < levels_.size(); ++i) sizes.push_back(numel_of(output_part(i)));
  std::vector<Tensor> parts = split(y, sizes, 1);
  for (size_t i = 0; i < levels_.size(); ++i) parts[i] = parts[i].reshape(with_batch(y.size(0), output_part(i)));
  return parts;
}

Tensor MultiscaleTransform::join_output(const std::vector<Tensor>& parts) const {
  FT_CHECK(parts.size() == levels_.size(), "a multiscale transform of {} levels has {} output parts, got {}",
           levels_.size(), levels_.size(), parts.size());
  std::vector<Tensor> flat;
  for (size_t i = 0; i < parts.size(); ++i) {
    check_image(parts[i], output_part(i), "sends out", i);
    flat.push_back(parts[i].reshape({parts[i].size(0), -1}));
  }
  return concat(flat, 1);
}

TransformResult MultiscaleTransform::forward(const Tensor& x, const Tensor& context) {
  check_context(context, context_features_, x);
  int64_t n = x.size(0);
  Tensor z = x, logabsdet = Tensor::zeros({n}, x.dtype(), x.device());
  std::vector<Tensor> parts;
  for (size_t i = 0; i < levels_.size(); ++i) {
    check_image(z, levels_[i].input, "takes", i);
    TransformResult r = levels_[i].transform->forward(z, Tensor());
    check_image(r.y, levels_[i].output, "was declared to give", i);
    logabsdet = add(logabsdet, r.logabsdet);
    z = r.y;
    TransformResult leaving;
    if (has_split(i)) {
      auto halves = chunk(z, 2, 1);
      leaving = whiten(halves[1], split_params(i, halves[0]));
      z = halves[0];
    } else {
      leaving = whiten(z, top_params(z, context));
    }
    parts.push_back(leaving.y);
    logabsdet = add(logabsdet, leaving.logabsdet);
  }
  return {join_output(parts), logabsdet};
}

TransformResult MultiscaleTransform::inverse(const Tensor& y, const Tensor& context) {
  std::vector<Tensor> parts = split_output(y);
  check_context(context, context_features_, y);
  int64_t n = y.size(0);
  Tensor logabsdet = Tensor::zeros({n}, y.dtype(), y.device());
  Tensor z;
  for (size_t i = levels_.size(); i-- > 0;) {
    const Tensor& noise = parts[i];
    TransformResult arriving;
    if (has_split(i)) {
      arriving = colour(noise, split_params(i, z));
      z = concat({z, arriving.y}, 1);
    } else {
      arriving = colour(noise, top_params(noise, context));
      z = arriving.y;
    }
    TransformResult r = levels_[i].transform->inverse(z, Tensor());
    logabsdet = add(logabsdet, add(arriving.logabsdet, r.logabsdet));
    z = r.y;
  }
  return {z, logabsdet};
}

}  // namespace ft::layers::flows
