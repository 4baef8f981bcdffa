// The data-parallel training loop. Every rank holds the whole model; parameters
// live in one flat arena (broadcast from rank 0 at start), gradients are averaged
// by bucketed all-reduces that start during backward, and every rank applies the
// same update (or, with ZeRO-1, updates its shard and all-gathers). Rank 0 writes
// metrics.jsonl, TensorBoard events, sample grids and the progress line.
#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "datasets/reader.h"
#include "framework/dist/communicator.h"
#include "framework/dist/gradient_reducer.h"
#include "framework/io/metrics_writer.h"
#include "framework/io/tensorboard_writer.h"
#include "framework/optim/ema.h"
#include "framework/optim/optimizer.h"
#include "framework/optim/schedule.h"
#include "framework/precision/loss_scaler.h"
#include "launch/config.h"
#include "launch/run_directory.h"
#include "launch/slurm_environment.h"
#include "layers/flow_model.h"

namespace ft::launch {

// Everything a resumed run needs besides the tensors: where it is.
struct TrainingProgress {
  int64_t step = 0;                // optimizer updates applied (or skipped) so far
  datasets::Position data;         // where the next global batch starts
  int64_t skipped_steps = 0;       // non-finite steps, in total
  int64_t consecutive_skips = 0;
};

struct StepResult {
  double loss = 0.0;           // nats per dimension, mean over the global batch
  double bits_per_dim = 0.0;
  double grad_norm = 0.0;      // before clipping
  double lr = 0.0;
  bool skipped = false;
  // The model's step_statistics() (layers/flow_model.h): each key's mean over the
  // ranks, and under "<key>_per_rank" every rank's value in rank order.
  nlohmann::json model_statistics = nlohmann::json::object();
};

struct TrainerOptions {
  // "auto" (the newest committed checkpoint of the run dir, if any), "never", or
  // the path of a checkpoint folder.
  std::string resume = "auto";
  // Random images in model space instead of data.train, and no files or progress
  // lines: what `flowtrain bench` measures.
  bool synthetic_data = false;
  // The SLURM job this run is part of (placement gathered): logged at the start of run().
  std::optional<SlurmJob> slurm;
  // A safetensors file (launch/weight_export.h) whose weights replace the initial
  // ones; ignored when a checkpoint is resumed.
  std::string init_from;
};

// train.precision ("fp32", "bf16", "fp16") as the autocast dtype (f32: autocast off).
DType precision_dtype(const std::string& precision);

class Trainer {
 public:
  Trainer(Config config, std::filesystem::path run_dir, std::shared_ptr<dist::Communicator> comm,
          TrainerOptions options = {});
  ~Trainer();

  // Trains until train.steps; returns the process exit code (kExitCheckpointed
  // after a stop signal).
  int run();
  StepResult train_step();  // one global batch
  // Collective: writes a sharded checkpoint of everything a resume needs.
  std::filesystem::path save_checkpoint();

  layers::FlowModel& model() { return *model_; }
  dist::GradientReducer& reducer() { return *reducer_; }
  const TrainingProgress& progress() const { return progress_; }
  const Config& config() const { return config_; }
  RunDirectory& run_directory() { return run_dir_; }
  // The stop signal the ranks agreed on at the last step boundary (0: none).
  int stop_signal() const { return stop_signal_; }
  double loss_scale() const;  // 1 unless train.precision = "fp16"
  // Called after gradients are reduced and unscaled, before the finiteness check,
  // with this rank's optimizer range of the gradient arena (on train.device): tests
  // inject overflows.
  std::function<void(int64_t step, Tensor& gradients)> gradient_hook;

 private:
  void check_and_build();  // every rank's own start-up checks, the model on its device; no collective
  std::shared_ptr<dist::Communicator> device_communicator();  // NCCL for a GPU, else comm_ (collective)
  void build_reduction_and_optimizer();  // gradient arenas, optimizer, EMA, loss scaler; no collective
  void build_optimization();
  void open_reader();
  datasets::Batch next_batch();
  // Forward and backward over the batch, in train.micro_batch pieces, and the
  // gradient reduction; returns this rank's loss (a scalar on the device).
  Tensor forward_backward(const datasets::Batch& batch);
  // Data-dependent initialisations (ActNorm's) still pending see the rank's whole
  // share of the batch, as without micro-batches: one forward without a graph.
  void initialize_from_whole_batch(const datasets::Batch& batch);
  std::optional<std::filesystem::path> choose_checkpoint(const std::string& resume);
  void restore_checkpoint(const std::filesystem::path& dir);
  void check_resume_config(const nlohmann::json& saved_model, const nlohmann::json& saved_run);
  bool checkpoint_due(bool* stop);
  void log_step(const StepResult& result);
  void log_slurm_job();
  void evaluate_and_log();
  void sample_and_log();
  int64_t optimizer_range_size() const;  // elements this rank's optimizer updates
  template <class Fn> void with_ema_weights(Fn&& fn);

  Config config_;
  TrainerOptions options_;
  std::shared_ptr<dist::Communicator> comm_;       // MPI: host scalars, strings, the checkpoint commit
  std::shared_ptr<dist::Communicator> data_comm_;  // tensors on device_: gradients, parameters, statistics
  RunDirectory run_dir_;
  std::shared_ptr<layers::FlowModel> model_;
  Device device_;  // train.device: the model's and every batch's
  std::unique_ptr<dist::GradientReducer> reducer_;
  std::unique_ptr<optim::Optimizer> optimizer_;
  std::unique_ptr<optim::Ema> ema_;
  std::unique_ptr<precision::LossScaler> scaler_;
  optim::ScheduleConfig schedule_;
  std::unique_ptr<datasets::Reader> reader_;
  std::unique_ptr<io::MetricsWriter> metrics_;
  std::unique_ptr<io::TensorBoardWriter> events_;
  TrainingProgress progress_;
  std::chrono::steady_clock::time_point last_checkpoint_;
  int64_t last_checkpoint_step_ = -1;
  int stop_signal_ = 0;  // agreed over ranks at the last step boundary
  DType autocast_ = DType::f32;
  bool data_initialized_ = false;  // every ActNorm has initialised (initialize_from_whole_batch)
  int64_t global_batch_ = 0;
  // progress-line bookkeeping
  std::chrono::steady_clock::time_point interval_start_;
  double interval_bpd_ = 0.0;
  int64_t interval_steps_ = 0;
};

}  // namespace ft::launch
