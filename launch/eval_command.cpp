// flowtrain eval --checkpoint PATH|--run-dir DIR [--data DIR] [--batches N]: test
// bits/dim as JSON, computed across ranks, deterministic (fixed dequantization noise).
#include <fmt/core.h>

#include <optional>

#include "framework/dist/agreement.h"
#include "launch/commands.h"
#include "launch/slurm_environment.h"
#include "launch/evaluation.h"
#include "launch/job_failure.h"
#include "launch/model_loading.h"
#include "launch/progress_line.h"
#include "launch/training_data.h"

namespace ft::launch {

namespace {

struct EvalArguments {
  CheckpointChoice model;
  int64_t batches = 0;
};

void run_eval(const EvalArguments& args) {
  auto comm = start_ranks();
  run_on_every_rank(*comm, [&] {
    std::optional<LoadedModel> loaded;
    dist::run_agreed(*comm, [&] { loaded.emplace(load_model(args.model, comm)); });
    verify_dataset_across_ranks(*comm, loaded->config.data.test);
    // Rank 0's batches stand for the job's: every rank takes one part of each global batch.
    std::optional<ProgressLine> progress;
    if (comm->rank() == 0) {
      progress.emplace(stderr, "evaluating",
                       ProgressOptions{.unit = "batches", .file_cadence = FileCadence::every_tenth});
    }
    auto report = [&](int64_t done, int64_t total) {
      if (progress) progress->update(done, total);
    };
    EvalResult result = evaluate_bits_per_dim(*loaded->model, loaded->config, *comm, args.batches, report);
    progress.reset();  // the line ends before the JSON
    if (comm->rank() != 0) return;
    nlohmann::json out = {{"nats_per_dim", result.nats_per_dim},
                          {"images", result.images},
                          {"data", loaded->config.data.test},
                          {"ranks", comm->size()}};
    if (loaded->model->scaling().quantized) out["bits_per_dim"] = result.bits_per_dim;  // vectors have no bins
    if (result.kl_to_target) {
      out["target_log_prob"] = *result.target_log_prob;
      out["kl_to_target"] = *result.kl_to_target;
    }
    double floor = noise_floor_bits_per_dim(*loaded->model, loaded->config);
    if (floor > 0.0) out["noise_floor_bits_per_dim"] = floor;
    out.update(describe_source(*loaded));
    fmt::print("{}\n", out.dump());  // doubles printed round-trip exact
    fmt::print(stderr, "{}\n", explain_bits_per_dim(result, *loaded->model, loaded->config));
  });
}

}  // namespace

void register_eval_command(CLI::App& app) {
  auto args = std::make_shared<EvalArguments>();
  CLI::App* cmd = app.add_subcommand("eval", "test bits/dim of a checkpoint, as JSON");
  add_checkpoint_options(*cmd, args->model, true);
  cmd->add_option("--batches", args->batches, "evaluate only the first N global batches (default: all)");
  cmd->callback([args] { run_eval(*args); });
}

}  // namespace ft::launch
