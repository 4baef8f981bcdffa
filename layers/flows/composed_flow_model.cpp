#include "layers/flows/composed_flow_model.h"

#include <optional>
#include <tuple>

#include "framework/core/check.h"
#include "framework/ops/ops.h"
#include "layers/flows/batch_norm.h"
#include "layers/flows/cnf.h"
#include "layers/flows/stochastic_transform.h"
#include "layers/glow/actnorm.h"

namespace ft::layers::flows {

namespace {

Shape with_batch(int64_t n, const Shape& example) {
  Shape shape{n};
  shape.insert(shape.end(), example.begin(), example.end());
  return shape;
}

}  // namespace

ComposedFlowModel::ComposedFlowModel(std::shared_ptr<Transform> transform, std::shared_ptr<Distribution> base,
                                     ComposedFlowOptions options, std::shared_ptr<VariationalDequantizer> dequantizer)
    : transform_(std::move(transform)),
      base_(std::move(base)),
      options_(std::move(options)),
      dequantizer_(std::move(dequantizer)) {
  int64_t latent = 1;
  for (int64_t d : options_.latent_shape) latent *= d;
  FT_CHECK(latent == base_->features(), "the base distribution has {} features but the transform gives {} per example",
           base_->features(), latent);
  FT_CHECK(latent == dims(), "a flow keeps the dimension: {} data dimensions but {} latent ones", dims(), latent);
  register_module("transform", transform_);
  register_module("base", base_);
  if (dequantizer_) {
    FT_CHECK(is_image_model() && options_.scaling.shift == 0.0 && options_.scaling.quantized,
             "a variational dequantizer needs images in [0, 1) (pixel + u) / bins");
    register_module("dequantizer", dequantizer_);
  }
}

Tensor ComposedFlowModel::context_of(const Tensor& labels, int64_t rows, DType dtype, Device device) const {
  if (options_.num_classes == 0) return Tensor();
  FT_CHECK(labels.defined() && labels.dim() == 1 && labels.size(0) == rows,
           "a class-conditional flow needs labels [{}], got {}", rows,
           labels.defined() ? shape_str(labels.shape()) : std::string("none"));
  std::vector<double> values = labels.to(Device::cpu()).to_double_vector();
  std::vector<float> one_hot(static_cast<size_t>(rows * options_.num_classes), 0.0f);
  for (int64_t i = 0; i < rows; ++i) {
    auto label = int64_t(values[size_t(i)]);
    FT_CHECK(label >= 0 && label < options_.num_classes, "label {} of example {} is outside [0, {})", label, i,
             options_.num_classes);
    one_hot[size_t(i * options_.num_classes + label)] = 1.0f;
  }
  return Tensor::from_vector(one_hot, {rows, options_.num_classes}).to(dtype).to(device);
}

Tensor ComposedFlowModel::to_transform_input(const Tensor& x) const {
  FT_CHECK(x.dim() == int64_t(options_.data_shape.size()) + 1 && x.shape() == with_batch(x.size(0), options_.data_shape),
           "the flow models examples of shape {} but got a batch of {}", shape_str(options_.data_shape),
           shape_str(x.shape()));
  return options_.flatten ? x.reshape({x.size(0), dims()}) : x;
}

Tensor ComposedFlowModel::to_data(const Tensor& transform_input) const {
  return transform_input.reshape(with_batch(transform_input.size(0), options_.data_shape));
}

std::pair<Tensor, Tensor> ComposedFlowModel::dequantize(const Tensor& x) {
  double bins = options_.scaling.bins_per_unit;
  DequantizationSample d = dequantizer_->sample(mul(x, bins), forward_gen_);  // integer pixel values
  return {add(x, mul(d.u, 1.0 / bins)), d.log_q};
}

ModelOutput ComposedFlowModel::forward(const Tensor& x, const Tensor& labels) {
  Tensor context = context_of(labels, x.size(0), x.dtype(), x.device());
  Tensor data = x, log_q;
  if (dequantizer_) std::tie(data, log_q) = dequantize(x);
  TransformResult r = transform_->forward(to_transform_input(data), context);
  Tensor z = r.y.reshape({x.size(0), dims()});
  Tensor log_prob = add(base_->log_prob(z, context), r.logabsdet);
  if (Tensor penalty = regularisation(); penalty.defined()) log_prob = sub(log_prob, penalty);
  return {log_q.defined() ? sub(log_prob, log_q) : log_prob, {r.y}};
}

Tensor ComposedFlowModel::reconstruct(const std::vector<Tensor>& latents, const Tensor& labels) {
  FT_CHECK(latents.size() == 1, "a composed flow has one latent, got {}", latents.size());
  const Tensor& z = latents[0];
  return to_data(transform_->inverse(z, context_of(labels, z.size(0), z.dtype(), z.device())).y);
}

Tensor ComposedFlowModel::sample(int64_t n, const SampleOptions& options, Generator& gen) {
  Device device = this->device();
  Tensor context = context_of(options.labels, n, DType::f32, device);
  bool standard = dynamic_cast<StandardNormal*>(base_.get()) || dynamic_cast<StandardLogistic*>(base_.get());
  FT_CHECK(options.temperature == 1.0 || standard,
           "sampling temperature {} needs a standard base distribution; this flow's base is learned",
           options.temperature);
  Tensor z = context.defined() ? base_->sample(1, context, gen) : base_->sample(n, Tensor(), gen).to(device);
  if (options.temperature != 1.0) z = mul(z, options.temperature);
  z = z.reshape(with_batch(n, options_.latent_shape));
  Tensor x = to_data(transform_->inverse(z, context).y);
  if (options.progress) options.progress(1, 1);
  return x;
}

nlohmann::json ComposedFlowModel::summary() const {
  nlohmann::json out = options_.description;
  out["kind"] = "flow";
  out["parameter_count"] = parameter_count();
  return out;
}

void ComposedFlowModel::set_statistics_averager(const StatisticsAverager& averager, int64_t replicas) {
  for (auto& actnorm : find_modules<ActNorm>()) actnorm->set_statistics_averager(averager);
  for (auto& norm : find_modules<BatchNormTransform>()) norm->set_statistics_averager(averager, replicas);
}

void ComposedFlowModel::set_forward_generator(const Generator& gen) {
  forward_gen_ = gen;
  uint64_t block = 0;
  for (auto& stochastic : find_modules<StochasticTransform>())
    stochastic->set_generator(Generator(gen.seed(), gen.stream() + ((++block) << 53), gen.offset()));
}

Tensor ComposedFlowModel::regularisation() {
  Tensor total;
  for (auto& transform : find_modules<Transform>())
    if (Tensor penalty = transform->take_regularisation(); penalty.defined())
      total = total.defined() ? add(total, penalty) : penalty;
  return total;
}

nlohmann::json ComposedFlowModel::step_statistics() const {
  nlohmann::json out = nlohmann::json::object();
  auto flows = find_modules<ContinuousFlow>();
  if (flows.empty()) return out;
  int64_t forward = 0, backward = 0;
  bool adjoint = false;
  std::optional<double> kinetic, jacobian;
  auto accumulate = [](std::optional<double>& total, const std::optional<double>& value) {
    if (value) total = total.value_or(0.0) + *value;
  };
  for (auto& flow : flows) {
    ContinuousFlowStatistics s = flow->statistics();
    forward += s.forward_evaluations;
    backward += s.backward_evaluations;
    adjoint = adjoint || flow->options().adjoint;
    accumulate(kinetic, s.kinetic_energy);
    accumulate(jacobian, s.jacobian_norm);
  }
  out["nfe_forward"] = forward;
  if (adjoint) out["nfe_backward"] = backward;
  if (kinetic) out["kinetic_energy"] = *kinetic;
  if (jacobian) out["jacobian_norm"] = *jacobian;
  return out;
}

}  // namespace ft::layers::flows
