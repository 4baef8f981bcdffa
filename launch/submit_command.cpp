// flowtrain submit CONFIG.toml --nodes N --tasks-per-node T [--gpus-per-node G] [--cpus-per-task C]
//   --time HH:MM:SS [--partition P] [--account A] [--qos Q] [--job-name NAME] [--run-dir DIR]
//   [--launcher srun|mpirun] [--signal-seconds S] [--no-requeue] [--set key=value]... [--dry-run]
#include <fmt/core.h>
#include <unistd.h>

#include "framework/io/durable_file.h"
#include "framework/random/generator.h"
#include "launch/commands.h"
#include "launch/config.h"
#include "launch/exit_codes.h"
#include "launch/job_script.h"
#include "launch/model_factory.h"
#include "launch/run_directory.h"
#include "launch/subprocess.h"
#include "launch/training_checks.h"

namespace ft::launch {

namespace {

struct SubmitArguments {
  std::string config;
  std::vector<std::string> overrides;
  std::string run_dir;
  JobRequest job;
  bool dry_run = false;
};

std::filesystem::path this_executable() {
  std::error_code error;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) FT_FAIL("cannot find the flowtrain binary (/proc/self/exe): {}", error.message());
  return self;
}

// The checks `train` makes at start-up, at the job's world size: a job that would
// fail there is never queued.
void check_like_train(const SubmitArguments& args) {
  Config config = Config::load(args.config, args.overrides);
  Generator init(uint64_t(config.train.seed), 0x1A17);
  auto model = build_model(config, init);
  check_training_setup(config, *model, args.job.nodes * args.job.tasks_per_node, true);
}

// A program's output as one line of the error message.
std::string one_line(const std::string& text) {
  std::string out;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = std::min(text.find('\n', begin), text.size());
    std::string line = text.substr(begin, end - begin);
    if (!line.empty()) out += (out.empty() ? "" : " | ") + line;
    begin = end + 1;
  }
  return out;
}

// "Submitted batch job 42" / "42;cluster" (--parsable) -> "42".
std::string job_id_from(const std::string& output) {
  std::string first = output.substr(0, output.find_first_of(";\n"));
  size_t begin = first.find_first_not_of(" \t");
  return begin == std::string::npos ? "" : first.substr(begin);
}

void run_submit(SubmitArguments& args) {
  try {
    if (args.job.tasks_per_node == 0) args.job.tasks_per_node = std::max(1, args.job.gpus_per_node);
    check_like_train(args);
    std::filesystem::path run_dir = std::filesystem::absolute(
        args.run_dir.empty() ? default_run_directory(args.config) : std::filesystem::path(args.run_dir));
    args.job.flowtrain = this_executable();
    args.job.config = std::filesystem::absolute(args.config);
    args.job.overrides = args.overrides;
    args.job.run_dir = run_dir.lexically_normal();
    args.job.working_dir = std::filesystem::current_path();
    std::string script = job_script(args.job);
    if (args.dry_run) {
      fmt::print("{}", script);
      return;
    }
    std::error_code error;
    std::filesystem::create_directories(run_dir, error);
    if (error) FT_FAIL("cannot create run directory '{}': {}", run_dir.string(), error.message());
    std::filesystem::path file = run_dir / "job.sbatch";
    io::write_file_atomically(file, script);
    ProcessResult result = run_process({"sbatch", "--parsable", file.string()});
    std::string output = one_line(result.output);
    if (result.exit_code == 127 && output.rfind("cannot run", 0) == 0)
      FT_FAIL("{} (is SLURM installed and sbatch on PATH?); the script is in {}", output, file.string());
    if (result.exit_code != 0)
      FT_FAIL("sbatch refused {} (exit {}): {}", file.string(), result.exit_code, output.empty() ? "no message" : output);
    std::string id = job_id_from(output);
    if (id.empty()) FT_FAIL("sbatch printed no job id for {}: '{}'", file.string(), output);
    fmt::print("{}\n", id);
    fmt::print(stderr, "flowtrain: submitted job {}: {}; output in {}\n", id, file.string(),
               (run_dir / fmt::format("slurm-{}.out", id)).string());
  } catch (const Error& e) {
    fmt::print(stderr, "flowtrain: error: {}\n", e.what());
    throw ReportedError{kExitError};
  }
}

}  // namespace

void register_submit_command(CLI::App& app) {
  auto args = std::make_shared<SubmitArguments>();
  CLI::App* cmd = app.add_subcommand(
      "submit", "check a config as train does, write RUN_DIR/job.sbatch and submit it with sbatch (prints the job id)");
  JobRequest& job = args->job;
  job.tasks_per_node = 0;  // from --gpus-per-node when not given
  cmd->add_option("config", args->config, "TOML config")->required();
  cmd->add_option("--nodes", job.nodes, "nodes")->required();
  cmd->add_option("--tasks-per-node", job.tasks_per_node, "MPI ranks per node (default: --gpus-per-node)");
  cmd->add_option("--gpus-per-node", job.gpus_per_node, "GPUs per node, requested as gres; one task per GPU");
  cmd->add_option("--cpus-per-task", job.cpus_per_task, "CPUs per task (also OMP_NUM_THREADS)");
  cmd->add_option("--time", job.time, "time limit, HH:MM:SS")->required();
  cmd->add_option("--partition", job.partition, "partition");
  cmd->add_option("--account", job.account, "account");
  cmd->add_option("--qos", job.qos, "quality of service");
  cmd->add_option("--job-name", job.job_name, "job name (default: the run directory's name)");
  cmd->add_option("--run-dir", args->run_dir, "run directory (default runs/<config name>)");
  cmd->add_option("--launcher", job.launcher, "srun (srun --mpi=pmix, the default) or mpirun")
      ->check(CLI::IsMember({"srun", "mpirun"}));
  cmd->add_option("--signal-seconds", job.signal_seconds,
                  "SIGUSR1 this many seconds before the time limit: checkpoint and requeue (default 120)");
  cmd->add_flag("--no-requeue", [&job](int64_t) { job.requeue = false; },
                "at the time limit checkpoint and end; neither SLURM nor flowtrain requeues the job");
  cmd->add_option("--set", args->overrides, "override section.key=value (repeatable)")->take_all();
  cmd->add_flag("--dry-run", args->dry_run, "print the script; submit nothing");
  cmd->callback([args] { run_submit(*args); });
}

}  // namespace ft::launch
