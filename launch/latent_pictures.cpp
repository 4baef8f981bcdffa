#include "launch/latent_pictures.h"

#include <algorithm>

#include "datasets/dequantize.h"
#include "framework/autograd/grad_mode.h"
#include "framework/core/check.h"
#include "framework/ops/ops.h"
#include "launch/training_data.h"

namespace ft::launch {

namespace {

// Eval mode for the lifetime of the guard (ActNorm statistics, label dropout off).
class EvalMode {
 public:
  explicit EvalMode(layers::FlowModel& model) : model_(model), was_training_(model.training()) {
    model_.set_training(false);
  }
  ~EvalMode() { model_.set_training(was_training_); }
  EvalMode(const EvalMode&) = delete;
  EvalMode& operator=(const EvalMode&) = delete;

 private:
  layers::FlowModel& model_;
  bool was_training_;
};

// Labels (undefined for unconditional models) where the model computes.
Tensor on_model_device(const Tensor& labels, const layers::FlowModel& model) {
  return labels.defined() ? labels.to(model.device()) : Tensor();
}

}  // namespace

ModelImages to_model_space(const datasets::ImagesAt& images, const Config& config, const layers::FlowModel& model) {
  datasets::DequantizeOptions options = dequantize_options(config, model);
  options.noise = datasets::Noise::none;  // the images themselves, not a draw from their bins
  const int64_t n = images.pixels.size(0);
  const Shape shape = model.data_shape();
  ModelImages out;
  out.x = Tensor::empty({n, shape[0], shape[1], shape[2]}, DType::f32);
  for (int64_t i = 0; i < n; ++i)
    datasets::dequantize_image(images.pixels.data<uint8_t>() + i * images.shape.bytes(), images.shape, false, options,
                               {0, 0, i}, out.x.data<float>() + i * images.shape.bytes());
  if (config.model.num_classes > 0) {
    for (int64_t label : images.labels.to_vector<int64_t>())
      if (label < 0 || label >= config.model.num_classes)
        FT_FAIL("data.test: label {} does not fit the conditional model's {} classes (unlabelled images?)", label,
                config.model.num_classes);
    out.labels = images.labels;
  }
  return out;
}

Reconstruction reconstruct(layers::FlowModel& model, const ModelImages& images) {
  NoGradGuard no_grad;
  EvalMode eval(model);
  const Tensor x = images.x.to(model.device()), labels = on_model_device(images.labels, model);
  layers::ModelOutput encoded = model.forward(x, labels);
  Reconstruction out;
  out.decoded = model.reconstruct(encoded.latents, labels).detach().to(DType::f32).to(Device::cpu());
  out.log_prob = encoded.log_prob.detach().to(DType::f64).to(Device::cpu());
  for (double e : abs(out.decoded - images.x).to_double_vector()) out.max_abs_error = std::max(out.max_abs_error, e);
  return out;
}

Tensor interpolate(layers::FlowModel& model, const ModelImages& pair, int64_t steps,
                   const std::function<void(int64_t done, int64_t total)>& on_image) {
  FT_CHECK(pair.x.size(0) == 2, "interpolation between {} images; it takes two", pair.x.size(0));
  if (steps < 2) FT_FAIL("--steps {}: a path needs at least its two endpoints", steps);
  NoGradGuard no_grad;
  EvalMode eval(model);
  const Tensor labels = on_model_device(pair.labels, model);
  const std::vector<Tensor> latents = model.forward(pair.x.to(model.device()), labels).latents;
  std::vector<Tensor> path;
  for (int64_t k = 0; k < steps; ++k) {
    const double t = double(k) / double(steps - 1);
    std::vector<Tensor> point;
    for (const Tensor& z : latents) point.push_back((1.0 - t) * z.slice(0, 0, 1) + t * z.slice(0, 1, 2));
    const int64_t nearer = t <= 0.5 ? 0 : 1;
    const Tensor label = labels.defined() ? labels.slice(0, nearer, nearer + 1) : Tensor();
    path.push_back(model.reconstruct(point, label).detach());
    if (on_image) on_image(k + 1, steps);
  }
  return concat(path, 0).to(DType::f32).to(Device::cpu());
}

}  // namespace ft::launch
