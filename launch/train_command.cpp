// flowtrain train CONFIG.toml [--set section.key=value]... [--run-dir DIR] [--resume auto|never|PATH]
#include <fmt/core.h>

#include <csignal>
#include <cstdlib>
#include <optional>

#include "framework/dist/agreement.h"
#include "framework/dist/communicator.h"
#include "launch/commands.h"
#include "launch/exit_codes.h"
#include "launch/job_failure.h"
#include "launch/signals.h"
#include "launch/slurm_environment.h"
#include "launch/trainer.h"

namespace ft::launch {

namespace {

struct TrainArguments {
  std::string config;
  std::vector<std::string> overrides;
  std::string run_dir;
  std::string resume = "auto";
  bool no_requeue = false;
  std::string init_from;
};

// After a checkpoint at SLURM's time-limit warning (SIGUSR1), rank 0 puts the job
// back in the queue; the others wait for it, since srun --kill-on-bad-exit would
// end rank 0 as soon as another rank exits with kExitCheckpointed. SIGTERM means
// SLURM is already ending or requeueing the job: nothing to do.
void requeue_after_time_limit(Trainer& trainer, const SlurmJob& job, const TrainArguments& args,
                              dist::Communicator& comm) {
  if (trainer.stop_signal() != SIGUSR1) return;
  if (comm.rank() == 0) {
    if (args.no_requeue) {
      trainer.run_directory().log(fmt::format("slurm: not requeueing job {} (--no-requeue)", job.requeue_id()));
    } else {
      std::string problem = requeue_job(job);
      trainer.run_directory().log(problem.empty()
                                      ? fmt::format("slurm: requeued job {}; it resumes from this checkpoint",
                                                    job.requeue_id())
                                      : "warning: " + problem + "; resubmit the job to continue");
    }
  }
  comm.barrier();
}

void run_train(const TrainArguments& args) {
  auto comm = start_ranks();
  // Before anything slow: SIGUSR1's default action ends the process, and SLURM may
  // send it at any time (after MPI_Init, which installs handlers of its own).
  install_stop_signal_handlers();
  std::optional<SlurmJob> slurm = slurm_job_from_environment();
  std::unique_ptr<Trainer> trainer;  // outlives the body: a rank that fails aborts the job before it is torn down
  run_on_every_rank(*comm, [&] {
    std::optional<Config> config;
    dist::run_agreed(*comm, [&] {
      if (slurm) check_world_matches_job(*slurm, comm->size());
      config.emplace(Config::load(args.config, args.overrides));
    });
    if (slurm) gather_placement(*slurm, *comm);
    std::filesystem::path run_dir =
        args.run_dir.empty() ? default_run_directory(args.config) : std::filesystem::path(args.run_dir);
    TrainerOptions options;
    options.resume = args.resume;
    options.init_from = args.init_from;
    options.slurm = slurm;
    trainer = std::make_unique<Trainer>(std::move(*config), run_dir, comm, options);
    int code = trainer->run();
    if (code == kExitCheckpointed && slurm) requeue_after_time_limit(*trainer, *slurm, args, *comm);
    if (code != kExitOk) throw ReportedError{code};
  });
}

}  // namespace

void register_train_command(CLI::App& app) {
  auto args = std::make_shared<TrainArguments>();
  CLI::App* cmd = app.add_subcommand("train", "train a model on a sharded image set (under mpirun, srun or alone)");
  cmd->add_option("config", args->config, "TOML config")->required();
  cmd->add_option("--set", args->overrides, "override section.key=value (repeatable)")->take_all();
  cmd->add_option("--run-dir", args->run_dir, "run directory (default runs/<config name>)");
  cmd->add_option("--resume", args->resume, "auto (newest committed checkpoint), never, or a checkpoint path");
  cmd->add_flag("--no-requeue", args->no_requeue,
                 "inside a SLURM job: after the checkpoint at the time-limit warning (SIGUSR1), exit without "
                 "requeueing the job");
  cmd->add_option("--init-from", args->init_from,
                  "start from the weights of a .safetensors file (flowtrain export, or ml-tarflow names); "
                  "a resumed checkpoint takes precedence");
  cmd->callback([args] { run_train(*args); });
}

}  // namespace ft::launch
