#include "launch/evaluation.h"

#include <fmt/core.h>

#include <cmath>
#include <numbers>

#include "datasets/reader.h"
#include "datasets/toy_sets.h"
#include "framework/autograd/grad_mode.h"
#include "framework/dist/agreement.h"
#include "framework/ops/ops.h"
#include "launch/training_data.h"

namespace ft::launch {

namespace {

// The toy set a vector set was drawn from (its manifest's source), if any.
std::optional<datasets::ToySet> toy_set_of(const datasets::Manifest& manifest) {
  const nlohmann::json& source = manifest.source;
  if (!manifest.is_vectors() || !source.is_object() || source.value("kind", "") != "toy") return std::nullopt;
  return datasets::toy_set_from_name(source.value("set", ""));
}

double target_log_prob_sum(datasets::ToySet set, const Tensor& points) {
  std::vector<double> xy = points.to(Device::cpu()).to_double_vector();
  double total = 0.0;
  for (size_t i = 0; i + 1 < xy.size(); i += 2) total += datasets::toy_log_density(set, xy[i], xy[i + 1]);
  return total;
}

}  // namespace

EvalResult evaluate_bits_per_dim(layers::FlowModel& model, const Config& config, dist::Communicator& comm,
                                 int64_t max_batches,
                                 const std::function<void(int64_t done, int64_t total)>& on_batch) {
  NoGradGuard no_grad;
  bool was_training = model.training();
  model.set_training(false);
  std::unique_ptr<datasets::Reader> opened;
  dist::run_agreed(comm, [&] {
    datasets::ReaderOptions options = reader_options(config, model, Split::test, comm.rank(), comm.size());
    options.queue_batches = 2;
    options.verify_checksums = false;  // the caller verified data.test at start-up (verify_dataset_across_ranks)
    opened = std::make_unique<datasets::Reader>(options);
  });
  datasets::Reader& reader = *opened;
  int64_t batches = reader.batches_per_epoch();
  if (max_batches > 0) batches = std::min(batches, max_batches);
  double log_prob_sum = 0.0, target_sum = 0.0;
  int64_t images = 0;
  std::optional<datasets::ToySet> toy = toy_set_of(reader.manifest());
  for (int64_t b = 0; b < batches; ++b) {
    datasets::Batch batch = reader.next();
    if (batch.images.size(0) > 0) {  // the last, partial batch may leave a rank without images
      Tensor labels = config.model.num_classes > 0 ? batch.labels.to(model.device()) : Tensor();
      model.set_forward_generator(forward_generator(config, Split::test, batch));
      layers::ModelOutput out = model.forward(batch.images.to(model.device()), labels);
      log_prob_sum += sum(out.log_prob.to(DType::f64)).item();
      if (toy) target_sum += target_log_prob_sum(*toy, batch.images);
      images += batch.images.size(0);
    }
    if (on_batch) on_batch(b + 1, batches);
  }
  Tensor totals = Tensor::from_vector<double>({log_prob_sum, double(images), target_sum}, {3});
  comm.all_reduce(totals, dist::ReduceOp::sum);
  std::vector<double> t = totals.to_double_vector();
  model.set_training(was_training);
  EvalResult result;
  result.images = int64_t(t[1]);
  FT_CHECK(result.images > 0, "evaluation saw no images in data.test = '{}'", config.data.test);
  double dims = double(model.dims());
  double mean_log_prob = t[0] / t[1];
  result.nats_per_dim = -mean_log_prob / dims;
  result.bits_per_dim = model.scaling().bits_per_dim(mean_log_prob, dims);
  if (toy) {
    result.target_log_prob = t[2] / t[1];
    result.kl_to_target = *result.target_log_prob - mean_log_prob;
  }
  return result;
}

double noise_floor_bits_per_dim(const layers::FlowModel& model, const Config& config) {
  if (config.data.noise != "gaussian" || !model.scaling().quantized) return 0.0;
  double sigma = config.data.noise_std;
  double noise_entropy = std::log(std::sqrt(2.0 * std::numbers::pi * std::numbers::e) * sigma);
  return (noise_entropy + std::log(model.scaling().bins_per_unit)) / std::numbers::ln2;
}

std::string explain_bits_per_dim(const EvalResult& result, const layers::FlowModel& model, const Config& config) {
  if (!model.scaling().quantized) {
    std::string line = fmt::format(
        "nats/dim {:.4f}: -log q(x) per feature of the test vectors, in nats (continuous data: no bits/dim; lower "
        "is better)",
        result.nats_per_dim);
    if (result.kl_to_target)
      line += fmt::format("; the toy set's true density gives {:.4f}, so KL(p || q) ~ {:.4f} nats",
                          -*result.target_log_prob / double(model.dims()), *result.kl_to_target);
    return line;
  }
  double floor = noise_floor_bits_per_dim(model, config);
  if (floor == 0.0)
    return fmt::format(
        "bits/dim {:.3f}: the exact cost, in bits per pixel, of storing a test image losslessly with this model "
        "(8 = raw 8-bit pixels; lower is better)",
        result.bits_per_dim);
  return fmt::format(
      "bits/dim {:.3f}: the cost per pixel of the test images blurred by the training noise (sigma {}); the noise "
      "alone costs {:.3f}, so the model is {:.3f} above its floor. Not an exact likelihood: train with "
      "data.noise = \"uniform\" for numbers comparable to papers",
      result.bits_per_dim, config.data.noise_std, floor, result.bits_per_dim - floor);
}

}  // namespace ft::launch
