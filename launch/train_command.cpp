// flowtrain train CONFIG.toml [--set section.key=value]... [--run-dir DIR] [--resume auto|never|PATH]
#include <fmt/core.h>

#include <cstdlib>
#include <optional>

#include "framework/dist/agreement.h"
#include "framework/dist/communicator.h"
#include "launch/commands.h"
#include "launch/exit_codes.h"
#include "launch/job_failure.h"
#include "launch/trainer.h"

namespace ft::launch {

namespace {

struct TrainArguments {
  std::string config;
  std::vector<std::string> overrides;
  std::string run_dir;
  std::string resume = "auto";
  std::string init_from;
};

// Under srun without PMI every task would think it is rank 0 of 1.
void check_world_matches_slurm(const dist::Communicator& comm) {
  const char* tasks = std::getenv("SLURM_NTASKS");
  const char* step = std::getenv("SLURM_STEP_ID");
  if (!tasks || !step) return;
  int expected = std::atoi(tasks);
  if (expected > 0 && expected != comm.size())
    FT_FAIL("MPI world has {} ranks but SLURM_NTASKS = {}: launch with mpirun or srun --mpi=pmix", comm.size(),
            expected);
}

void run_train(const TrainArguments& args) {
  auto comm = dist::make_mpi_communicator();
  std::unique_ptr<Trainer> trainer;  // outlives the body: a rank that fails aborts the job before it is torn down
  run_on_every_rank(*comm, [&] {
    std::optional<Config> config;
    dist::run_agreed(*comm, [&] {
      check_world_matches_slurm(*comm);
      config.emplace(Config::load(args.config, args.overrides));
    });
    std::filesystem::path run_dir =
        args.run_dir.empty() ? default_run_directory(args.config) : std::filesystem::path(args.run_dir);
    TrainerOptions options;
    options.resume = args.resume;
    options.init_from = args.init_from;
    trainer = std::make_unique<Trainer>(std::move(*config), run_dir, comm, options);
    int code = trainer->run();
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
  cmd->add_option("--init-from", args->init_from,
                  "start from the weights of a .safetensors file (flowtrain export, or ml-tarflow names); "
                  "a resumed checkpoint takes precedence");
  cmd->callback([args] { run_train(*args); });
}

}  // namespace ft::launch
