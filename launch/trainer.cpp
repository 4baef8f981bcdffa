#include "launch/trainer.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <csignal>

#include "framework/autograd/grad_mode.h"
#include "framework/dist/agreement.h"
#include "framework/kernels/kernels.h"
#include "framework/ops/ops.h"
#include "framework/optim/clipping.h"
#include "framework/precision/autocast.h"
#include "launch/density_map.h"
#include "launch/evaluation.h"
#include "launch/exit_codes.h"
#include "launch/signals.h"
#include "launch/weight_export.h"
#include "layers/glow/actnorm.h"
#include "launch/model_factory.h"
#include "launch/progress_line.h"
#include "framework/io/png_writer.h"
#include "launch/sampling.h"
#include "launch/training_checks.h"
#include "launch/training_data.h"

namespace ft::launch {

namespace {

// A model's step statistics travel in the trainer's sum all-reduce: each key gets
// one slot per rank, zero but for this rank's, so the sum gathers every rank's value.
void append_rank_slots(const nlohmann::json& statistics, int rank, int world, std::vector<double>& values) {
  for (auto& [name, value] : statistics.items()) {
    std::vector<double> slots(size_t(world), 0.0);
    slots[size_t(rank)] = value.get<double>();
    values.insert(values.end(), slots.begin(), slots.end());
  }
}

// From the reduced values (the slots starting at `first`): each key's mean over the
// ranks, and "<key>_per_rank" with every rank's value.
nlohmann::json gathered_statistics(const nlohmann::json& statistics, const std::vector<double>& reduced, size_t first,
                                   int world) {
  nlohmann::json out = nlohmann::json::object();
  size_t at = first;
  for (auto& [name, value] : statistics.items()) {
    std::vector<double> per_rank(reduced.begin() + long(at), reduced.begin() + long(at) + world);
    at += size_t(world);
    double total = 0.0;
    for (double v : per_rank) total += v;
    out[name] = total / double(world);
    out[name + "_per_rank"] = per_rank;
  }
  return out;
}

}  // namespace

DType precision_dtype(const std::string& precision) {
  if (precision == "bf16") return DType::bf16;
  if (precision == "fp16") return DType::f16;
  return DType::f32;
}

Trainer::Trainer(Config config, std::filesystem::path run_dir, std::shared_ptr<dist::Communicator> comm,
                 TrainerOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      comm_(std::move(comm)),
      run_dir_(std::move(run_dir), comm_->rank() == 0 && !options_.synthetic_data) {
  // Start-up runs in phases that every rank checks on its own and then agrees on,
  // before the collective that follows: a rank whose checks fail (its files, its
  // --set values) fails every rank with its message instead of leaving them waiting.
  dist::run_agreed(*comm_, [&] { check_and_build(); });
  // A collective of its own (NCCL's set-up), between the agreed phases.
  data_comm_ = device_communicator();
  dist::run_agreed(*comm_, [&] { build_reduction_and_optimizer(); });
  reducer_->broadcast_parameters(0);
  std::optional<std::filesystem::path> checkpoint;
  if (!options_.synthetic_data) dist::run_agreed(*comm_, [&] { checkpoint = choose_checkpoint(options_.resume); });
  dist::run_agreed(*comm_, [&] {
    if (run_dir_.writer()) {
      metrics_ = std::make_unique<io::MetricsWriter>(run_dir_.metrics().string(), true);
      events_ = std::make_unique<io::TensorBoardWriter>(run_dir_.root().string());
    }
    if (checkpoint) restore_checkpoint(*checkpoint);
    else if (!options_.init_from.empty()) run_dir_.log(fmt::format("initialized the weights from {}", options_.init_from));
    run_dir_.save_config(config_.to_toml());
  });
  if (!options_.synthetic_data) open_reader();
  last_checkpoint_ = std::chrono::steady_clock::now();
}

void Trainer::check_and_build() {
  global_batch_ = config_.train.global_batch;
  autocast_ = precision_dtype(config_.train.precision);
  // Same seed on every rank; rank 0's values are broadcast anyway.
  Generator init(uint64_t(config_.train.seed), 0x1A17);
  model_ = build_model(config_, init);
  if (!options_.init_from.empty()) import_weights(options_.init_from, config_, *model_);
  check_training_setup(config_, *model_, comm_->size(), !options_.synthetic_data);
  device_ = resolve_training_device(config_.train.device, comm_->local_rank());
  model_->to(device_);
  if (config_.train.recompute && !model_->set_recompute(true))
    FT_FAIL("train.recompute = true: model.kind = \"{}\" has no activation recomputation (tarflow and glow have)",
            config_.model.kind);
}

std::shared_ptr<dist::Communicator> Trainer::device_communicator() {
#if defined(FLOWTRAIN_HAVE_CUDA)
  if (device_.kind == DeviceKind::cuda) return dist::make_nccl_communicator(device_.index);
#endif
  return comm_;
}

void Trainer::build_reduction_and_optimizer() {
  // Data-dependent initialisations see the statistics of the whole global batch.
  auto comm_for_stats = data_comm_;
  model_->set_statistics_averager([comm_for_stats](Tensor& stats) {
    Tensor dense = stats.contiguous();
    comm_for_stats->all_reduce(dense, dist::ReduceOp::average);
    if (!dense.same(stats)) stats.copy_(dense);
  }, comm_->size());
  dist::ReducerOptions reducer_options;
  reducer_options.bucket_megabytes = config_.train.bucket_mb;
  reducer_options.zero1 = config_.train.zero1;
  reducer_ = std::make_unique<dist::GradientReducer>(model_->parameter_slots(), data_comm_, reducer_options);
  build_optimization();
}

datasets::Batch Trainer::next_batch() {
  if (!options_.synthetic_data) return reader_->next();
  // A fresh draw per step and rank.
  int64_t local = global_batch_ / comm_->size();
  Generator gen(uint64_t(config_.train.seed), 0xBE4C0000 + uint64_t(comm_->rank()),
                uint64_t(progress_.step) * uint64_t(local * model_->dims() + 4));
  datasets::Batch batch;
  batch.images = synthetic_examples(*model_, local, gen);
  int64_t classes = std::max<int64_t>(1, config_.model.num_classes);
  std::vector<int64_t> labels(static_cast<size_t>(local));
  for (auto& label : labels) label = int64_t(gen.next_below(uint64_t(classes)));
  batch.labels = Tensor::from_vector(labels, {local});
  batch.next = {0, (progress_.step + 1) * global_batch_};
  batch.rank_begin = int64_t(comm_->rank()) * local;
  return batch;
}

void Trainer::open_reader() {
  datasets::ReaderOptions options = reader_options(config_, *model_, Split::train, comm_->rank(), comm_->size());
  options.start = progress_.data;
  // Each shard is hashed once per job, by one rank; the readers then only check sizes and formats.
  verify_dataset_across_ranks(*comm_, options.dir);
  if (!config_.data.test.empty()) verify_dataset_across_ranks(*comm_, config_.data.test);
  options.verify_checksums = false;
  dist::run_agreed(*comm_, [&] { reader_ = std::make_unique<datasets::Reader>(options); });
}

Trainer::~Trainer() = default;

double Trainer::loss_scale() const { return scaler_ ? scaler_->scale() : 1.0; }

void Trainer::build_optimization() {
  optim::OptimizerConfig oc;
  oc.name = config_.optim.name;
  std::vector<double> betas = config_.optim.betas;
  if (betas.size() != 2) FT_FAIL("optim.betas must have two values, got {}", betas.size());
  oc.beta1 = betas[0];
  oc.beta2 = betas[1];
  oc.eps = config_.optim.eps;
  oc.weight_decay = config_.optim.weight_decay;
  optimizer_ = optim::make_optimizer(oc, optimizer_range_size(), device_);
  schedule_.lr = config_.optim.lr;
  schedule_.min_lr = config_.optim.min_lr;
  schedule_.warmup_start_lr = config_.optim.warmup_start_lr;
  schedule_.warmup_steps = config_.optim.warmup_steps;
  schedule_.total_steps = config_.train.steps;
  schedule_.kind = config_.optim.schedule;
  double ema = config_.optim.ema;
  if (ema < 0.0 || ema >= 1.0) FT_FAIL("optim.ema must be in [0, 1), got {}", ema);
  if (ema > 0.0) ema_ = std::make_unique<optim::Ema>(reducer_->parameter_count(), ema, device_);
  if (autocast_ == DType::f16) scaler_ = std::make_unique<precision::LossScaler>();
}

int64_t Trainer::optimizer_range_size() const {
  return config_.train.zero1 ? reducer_->shard_size() : reducer_->parameter_count();
}

void Trainer::initialize_from_whole_batch(const datasets::Batch& batch) {
  if (data_initialized_) return;
  auto actnorms = model_->find_modules<layers::ActNorm>();
  data_initialized_ = true;  // after this forward, if not before
  if (std::all_of(actnorms.begin(), actnorms.end(), [](const auto& a) { return a->is_initialized(); })) return;
  NoGradGuard no_graph;
  AutocastGuard autocast(autocast_);
  model_->set_forward_generator(forward_generator(config_, Split::train, batch));
  model_->forward(batch.images.to(device_), config_.model.num_classes > 0 ? batch.labels.to(device_) : Tensor());
}

Tensor Trainer::forward_backward(const datasets::Batch& batch) {
  const int64_t local = batch.images.size(0);
  const int64_t micro = config_.train.micro_batch > 0 ? config_.train.micro_batch : local;
  const double scale = scaler_ ? scaler_->scale() : 1.0;
  const bool labelled = config_.model.num_classes > 0;
  if (micro < local) initialize_from_whole_batch(batch);
  Tensor total;  // this rank's loss, summed over its micro-batches (on the device: no sync per micro-batch)
  for (int64_t first = 0; first < local; first += micro) {
    // Gradients accumulate in the arena; the buckets start reducing during the last
    // micro-batch's backward, once every gradient is complete.
    reducer_->set_grad_sync(first + micro >= local);
    Tensor images = batch.images.slice(0, first, first + micro).to(device_);
    Tensor labels = labelled ? batch.labels.slice(0, first, first + micro).to(device_) : Tensor();
    model_->set_forward_generator(forward_generator(config_, Split::train, batch, first));
    Tensor loss;
    {
      AutocastGuard autocast(autocast_);
      layers::ModelOutput out = model_->forward(images, labels);
      // This micro-batch's share of the mean over the rank's examples; the reducer
      // averages across ranks, which is the global mean because every rank holds
      // the same number of examples.
      loss = mul(sum(out.log_prob), -1.0 / (double(local) * double(model_->dims())));
    }
    (scale != 1.0 ? mul(loss, scale) : loss).backward();
    total = total.defined() ? add(total, loss.detach()) : loss.detach();
  }
  reducer_->finish_gradient_reduction();
  return total;
}

StepResult Trainer::train_step() {
  datasets::Batch batch = next_batch();
  progress_.data = batch.next;
  StepResult result;
  result.lr = optim::learning_rate(schedule_, progress_.step);
  model_->set_training(true);
  reducer_->zero_grad();
  Tensor loss = forward_backward(batch);
  data_comm_->synchronize();  // a failed or stuck GPU peer surfaces here, not as a hang in a host read
  const double scale = scaler_ ? scaler_->scale() : 1.0;

  bool zero1 = config_.train.zero1;
  Tensor grads = zero1 ? reducer_->shard_gradients() : reducer_->gradient_arena();
  if (scale != 1.0) kernels::scale_inplace(grads, 1.0 / scale);
  if (gradient_hook) gradient_hook(progress_.step, grads);

  // One all-reduce for the loss, the squared gradient norm, the overflow flag and
  // each rank's model statistics (in a slot of its own, so the sum gathers them).
  // The squared norm of f32 values is non-finite exactly when one of them is.
  double squared = kernels::squared_norm(grads);
  bool finite = std::isfinite(squared);
  nlohmann::json model_stats = model_->step_statistics();
  std::vector<double> values = {loss.item(), finite ? squared : 0.0, finite ? 0.0 : 1.0};
  append_rank_slots(model_stats, comm_->rank(), comm_->size(), values);
  Tensor stats = Tensor::from_vector<double>(values, {int64_t(values.size())});
  comm_->all_reduce(stats, dist::ReduceOp::sum);
  std::vector<double> s = stats.to_double_vector();
  double ranks = double(comm_->size());
  result.model_statistics = gathered_statistics(model_stats, s, 3, comm_->size());
  result.loss = s[0] / ranks;
  result.bits_per_dim = (result.loss + std::log(model_->scaling().bins_per_unit)) / std::log(2.0);
  result.grad_norm = std::sqrt(zero1 ? s[1] : s[1] / ranks);  // unsharded: every rank holds the same gradients
  bool overflow = s[2] > 0.0 || !std::isfinite(result.loss);
  if (scaler_) scaler_->update(overflow);
  ++progress_.step;
  if (overflow) {
    result.skipped = true;
    ++progress_.skipped_steps;
    if (++progress_.consecutive_skips > config_.train.max_skipped_steps)
      FT_FAIL("stopping: {} steps in a row had a non-finite loss or gradient (train.max_skipped_steps = {}); "
              "lower optim.lr, raise optim.warmup_steps or set optim.clip_norm",
              progress_.consecutive_skips, config_.train.max_skipped_steps);
    return result;
  }
  progress_.consecutive_skips = 0;
  double coefficient = optim::clip_coefficient(result.grad_norm, config_.optim.clip_norm);
  if (coefficient < 1.0) kernels::scale_inplace(grads, coefficient);
  Tensor params = zero1 ? reducer_->shard_parameters() : reducer_->parameter_arena();
  optimizer_->step(params, grads, result.lr);
  if (zero1) reducer_->gather_parameters();
  if (ema_) ema_->update(reducer_->parameter_arena().slice(0, 0, reducer_->parameter_count()));
  return result;
}

template <class Fn>
void Trainer::with_ema_weights(Fn&& fn) {
  if (!ema_ || !ema_->initialized()) {
    fn();
    return;
  }
  Tensor arena = reducer_->parameter_arena().slice(0, 0, reducer_->parameter_count());
  Tensor saved = arena.clone();
  arena.copy_(ema_->shadow());
  try {
    fn();
  } catch (...) {
    arena.copy_(saved);
    throw;
  }
  arena.copy_(saved);
}

void Trainer::evaluate_and_log() {
  if (config_.data.test.empty()) return;
  EvalResult eval;
  with_ema_weights([&] { eval = evaluate_bits_per_dim(*model_, config_, *comm_, config_.log.eval_batches); });
  // Continuous vectors have no bins: their number is nats per dimension.
  bool quantized = model_->scaling().quantized;
  double value = quantized ? eval.bits_per_dim : eval.nats_per_dim;
  std::string metric = quantized ? "bits_per_dim" : "nats_per_dim";
  run_dir_.log(fmt::format("eval step {} | test {} {:.4f} | {} {}", progress_.step, quantized ? "bpd" : "nats/dim", value,
                           eval.images, quantized ? "images" : "examples") +
               (eval.kl_to_target ? fmt::format(" | KL to the toy density {:.4f} nats", *eval.kl_to_target) : ""));
  if (!run_dir_.writer()) return;
  nlohmann::json line = {{"step", progress_.step}, {"eval_" + metric, value}, {"eval_images", eval.images}};
  if (eval.kl_to_target) line["eval_kl_to_target"] = *eval.kl_to_target;
  metrics_->write(line);
  events_->add_scalar("eval/" + metric, value, progress_.step);
  if (eval.kl_to_target) events_->add_scalar("eval/kl_to_target", *eval.kl_to_target, progress_.step);
  events_->flush();
}

void Trainer::sample_and_log() {
  GridRequest request;
  request.count = config_.log.sample_count;
  request.options.temperature = config_.log.temperature;
  request.seed = uint64_t(config_.train.seed);
  if (config_.model.num_classes > 0) {
    std::vector<int64_t> labels(size_t(request.count));
    for (int64_t i = 0; i < request.count; ++i) labels[size_t(i)] = i % config_.model.num_classes;
    request.options.labels = Tensor::from_vector(labels, {request.count}, device_);
  }
  if (!run_dir_.writer()) return;  // rank 0 draws alone; no collective inside
  // Vector flows show their density when they are 2-D; others have no picture.
  if (!model_->is_image_model() && model_->dims() != 2) return;
  io::ImageGrid grid;
  with_ema_weights([&] {
    if (model_->is_image_model()) grid = sample_grid(*model_, request);
    else grid = draw_density_map(*model_, draw_samples(*model_, request)).picture;
  });
  std::vector<uint8_t> png = grid_png(grid);
  std::filesystem::path file = run_dir_.samples() / fmt::format("step_{:08}.png", progress_.step);
  io::write_png_file(file.string(), grid);
  events_->add_image("samples", png, grid.height, grid.width, grid.channels, progress_.step);
  events_->flush();
}

void Trainer::log_step(const StepResult& result) {
  interval_bpd_ += result.bits_per_dim;
  interval_steps_ += 1;
  int64_t every = std::max<int64_t>(1, config_.log.every_steps);
  int64_t total = config_.train.steps;
  if (progress_.step % every != 0 && progress_.step != total) return;
  auto now = std::chrono::steady_clock::now();
  double elapsed = std::chrono::duration<double>(now - interval_start_).count();
  double images_per_second = double(interval_steps_ * global_batch_) / std::max(elapsed, 1e-9);
  double mean_bpd = interval_bpd_ / double(interval_steps_);
  double per_step = elapsed / double(interval_steps_);
  double epoch = reader_ ? double(progress_.data.epoch) + double(progress_.data.consumed) /
                                                             double(reader_->batches_per_epoch() * global_batch_)
                        : 0.0;
  // Vector data reports its loss (nats per dimension) alone: bits/dim need bins.
  bool quantized = model_->scaling().quantized;
  // The model's own numbers of this step (rank means), as "| nfe_forward 26".
  std::string model_numbers;
  for (auto& [name, value] : result.model_statistics.items())
    if (value.is_number()) model_numbers += fmt::format(" | {} {:.4g}", name, value.get<double>());
  run_dir_.log(fmt::format("step {}/{} | epoch {:.2f} | {}loss {:.4f} | lr {:.2e} | grad {:.3f} | "
                           "{:.0f} img/s{} | ETA {}{}",
                           progress_.step, total, epoch, quantized ? fmt::format("bpd {:.4f} | ", mean_bpd) : "",
                           result.loss, result.lr, result.grad_norm, images_per_second, model_numbers,
                           format_duration(per_step * double(total - progress_.step)),
                           progress_.skipped_steps ? fmt::format(" | skipped {}", progress_.skipped_steps) : ""));
  if (run_dir_.writer()) {
    nlohmann::json line = {{"step", progress_.step},
                           {"epoch", epoch},
                           {"loss", result.loss},
                           {"lr", result.lr},
                           {"grad_norm", result.grad_norm},
                           {"images_per_sec", images_per_second},
                           {"skipped_steps", progress_.skipped_steps}};
    if (quantized) line["bits_per_dim"] = mean_bpd;
    line.update(result.model_statistics);
    metrics_->write(line);
    events_->add_scalar("train/loss", result.loss, progress_.step);
    if (quantized) events_->add_scalar("train/bits_per_dim", mean_bpd, progress_.step);
    events_->add_scalar("train/lr", result.lr, progress_.step);
    events_->add_scalar("train/grad_norm", result.grad_norm, progress_.step);
    events_->add_scalar("train/images_per_sec", images_per_second, progress_.step);
    for (auto& [name, value] : result.model_statistics.items())
      if (value.is_number()) events_->add_scalar("train/" + name, value.get<double>(), progress_.step);
    events_->flush();
  }
  interval_bpd_ = 0.0;
  interval_steps_ = 0;
  interval_start_ = now;
}

void Trainer::log_slurm_job() {
  if (!options_.slurm) return;
  const SlurmJob& job = *options_.slurm;
  std::string array = job.array_task_id.empty() ? "" : fmt::format(" (array {} task {})", job.array_job_id,
                                                                     job.array_task_id);
  run_dir_.log(fmt::format("slurm: job {}{}, restart {}, nodes {}; {}", job.job_id, array, job.restart_count,
                           job.node_list.empty() ? "?" : job.node_list, job.placement()));
  if (!run_dir_.writer()) return;
  // Keyed by the step it starts from, so a later resume keeps the record.
  metrics_->write({{"step", progress_.step},
                   {"slurm_job_id", job.job_id},
                   {"slurm_array_job_id", job.array_job_id},
                   {"slurm_array_task_id", job.array_task_id},
                   {"slurm_restart_count", job.restart_count},
                   {"slurm_nodelist", job.node_list},
                   {"rank_nodes", job.rank_nodes}});
}

bool Trainer::checkpoint_due(bool* stop) {
  // Rank 0's clock decides the timed trigger; a signal on any rank stops every rank.
  double minutes = config_.checkpoint.every_minutes;
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_checkpoint_).count() / 60.0;
  bool timed = comm_->rank() == 0 && minutes > 0.0 && elapsed >= minutes;
  Tensor flags = Tensor::from_vector<double>({double(received_stop_signal()), timed ? 1.0 : 0.0}, {2});
  comm_->all_reduce(flags, dist::ReduceOp::max);
  std::vector<double> f = flags.to_double_vector();
  stop_signal_ = int(f[0]);
  *stop = stop_signal_ != 0;
  int64_t every = config_.checkpoint.every_steps;
  return *stop || f[1] > 0.0 || (every > 0 && progress_.step % every == 0);
}

int Trainer::run() {
  int64_t total = config_.train.steps;
  run_dir_.log(fmt::format("flowtrain: {} model, {} parameters, {} ranks, global batch {}, {} steps, precision {}, "
                           "run dir {}",
                           config_.model.kind, model_->parameter_count(), comm_->size(), global_batch_, total,
                           config_.train.precision, run_dir_.root().string()));
  log_slurm_job();
  interval_start_ = std::chrono::steady_clock::now();
  int64_t eval_every = config_.log.eval_every_steps;
  int64_t sample_every = config_.log.sample_every_steps;
  while (progress_.step < total) {
    log_step(train_step());
    if (eval_every > 0 && progress_.step % eval_every == 0) evaluate_and_log();
    if (sample_every > 0 && progress_.step % sample_every == 0) sample_and_log();
    bool stop = false;
    if (checkpoint_due(&stop)) save_checkpoint();
    if (stop) {
      run_dir_.log(fmt::format("stop requested ({}): checkpointed at step {}; exiting with code {} so the job can be "
                               "requeued",
                               signal_name(stop_signal_),
                               progress_.step, kExitCheckpointed));
      return kExitCheckpointed;
    }
  }
  if (last_checkpoint_step_ != progress_.step) save_checkpoint();
  if (eval_every <= 0 || total % eval_every != 0) evaluate_and_log();
  return kExitOk;
}

}  // namespace ft::launch
