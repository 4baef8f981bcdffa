#include "launch/job_script.h"

#include <fmt/core.h>

#include <regex>

#include "framework/core/check.h"

namespace ft::launch {

namespace {

// Open MPI's daemons end their ranks 1 s after SIGTERM by default, too soon for a
// checkpoint; SLURM itself sends SIGKILL after KillWait (30 s by default). The
// daemons wait this long even when the ranks are gone (twice when a rank failed),
// so it also delays the end of a failed job: 10 s is a checkpoint of a few GB.
// srun --mpi=pmix has no daemons: the ranks get all of KillWait.
constexpr int kMpirunKillGraceSeconds = 10;

void check_request(const JobRequest& r) {
  if (r.nodes < 1) FT_FAIL("--nodes must be >= 1, got {}", r.nodes);
  if (r.tasks_per_node < 1) FT_FAIL("--tasks-per-node must be >= 1, got {}", r.tasks_per_node);
  if (r.gpus_per_node < 0) FT_FAIL("--gpus-per-node must be >= 0, got {}", r.gpus_per_node);
  if (r.gpus_per_node > 0 && r.tasks_per_node != r.gpus_per_node)
    FT_FAIL("--tasks-per-node {} with --gpus-per-node {}: flowtrain runs one task per GPU; give the same number "
            "or leave --tasks-per-node out",
            r.tasks_per_node, r.gpus_per_node);
  if (r.cpus_per_task < 0) FT_FAIL("--cpus-per-task must be >= 1, got {}", r.cpus_per_task);
  if (r.launcher != "srun" && r.launcher != "mpirun")
    FT_FAIL("--launcher '{}': expected srun or mpirun", r.launcher);
  int64_t limit = time_limit_seconds(r.time);
  if (r.signal_seconds < 1 || r.signal_seconds > 65535)
    FT_FAIL("--signal-seconds must be in [1, 65535], got {}", r.signal_seconds);
  if (r.signal_seconds >= limit)
    FT_FAIL("--signal-seconds {} is not shorter than --time {} ({} s): the warning would come before any training",
            r.signal_seconds, r.time, limit);
  for (const std::string* value : {&r.partition, &r.account, &r.qos, &r.job_name})
    if (value->find_first_of(" \t\n'\"\\$`") != std::string::npos)
      FT_FAIL("'{}': partition, account, qos and job names must not contain spaces, quotes or '$'", *value);
}

std::string launch_command(const JobRequest& r) {
  std::string train = shell_quote(r.flowtrain.string()) + " train " + shell_quote(r.config.string());
  for (const std::string& o : r.overrides) train += " --set " + shell_quote(o);
  train += " --run-dir " + shell_quote(r.run_dir.string()) + " --resume auto";
  if (!r.requeue) train += " --no-requeue";
  if (r.launcher == "srun") return "srun --mpi=pmix --kill-on-bad-exit=1 " + train;
  // mpirun takes the node list and task slots from the allocation (and starts its
  // daemons with srun): no -np, so the world is exactly the job's tasks.
  return fmt::format("mpirun --bind-to none --mca odls_base_sigkill_timeout {} {}", kMpirunKillGraceSeconds,
                     train);
}

}  // namespace

int64_t time_limit_seconds(const std::string& time) {
  static const std::regex pattern(R"(^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$)");
  std::smatch m;
  if (!std::regex_match(time, m, pattern))
    FT_FAIL("--time '{}': expected HH:MM:SS (or SLURM's MM, MM:SS, D-HH:MM:SS)", time);
  auto number = [&](int i) { return m[i].matched ? std::stoll(m[i].str()) : 0LL; };
  int64_t seconds = 0;
  if (m[1].matched) {  // D-HH[:MM[:SS]]
    seconds = number(1) * 86400 + number(2) * 3600 + number(3) * 60 + number(4);
  } else if (m[4].matched) {  // HH:MM:SS
    seconds = number(2) * 3600 + number(3) * 60 + number(4);
  } else {  // MM[:SS]
    seconds = number(2) * 60 + number(3);
  }
  if (seconds < 60) FT_FAIL("--time '{}' is under SLURM's one-minute resolution", time);
  return seconds;
}

std::string shell_quote(const std::string& word) {
  static const std::regex safe(R"(^[A-Za-z0-9_@%+=:,./-]+$)");
  if (std::regex_match(word, safe)) return word;
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string job_script(const JobRequest& r) {
  check_request(r);
  std::string out = "#!/bin/bash\n";
  out += "# Written by `flowtrain submit`. Submit again with: sbatch " + shell_quote((r.run_dir / "job.sbatch").string()) +
         "\n";
  auto directive = [&out](const std::string& option) { out += "#SBATCH " + option + "\n"; };
  directive("--job-name=" + (r.job_name.empty() ? r.run_dir.filename().string() : r.job_name));
  directive(fmt::format("--nodes={}", r.nodes));
  directive(fmt::format("--ntasks-per-node={}", r.tasks_per_node));
  if (r.gpus_per_node > 0) directive(fmt::format("--gres=gpu:{}", r.gpus_per_node));
  if (r.cpus_per_task > 0) directive(fmt::format("--cpus-per-task={}", r.cpus_per_task));
  directive("--time=" + r.time);
  if (!r.partition.empty()) directive("--partition=" + r.partition);
  if (!r.account.empty()) directive("--account=" + r.account);
  if (!r.qos.empty()) directive("--qos=" + r.qos);
  if (!r.working_dir.empty()) directive("--chdir=" + r.working_dir.string());
  directive("--output=" + (r.run_dir / "slurm-%j.out").string());
  directive("--error=" + (r.run_dir / "slurm-%j.err").string());
  directive("--open-mode=append");
  directive(r.requeue ? "--requeue" : "--no-requeue");
  // The ranks get SIGUSR1 this long before the time limit: they checkpoint at the
  // next step boundary and rank 0 requeues the job.
  directive(fmt::format("--signal=USR1@{}", r.signal_seconds));
  out += "\n";
  out += "# One OpenMP thread per CPU SLURM gave the task.\n";
  out += "export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}\n";
  out += "echo \"flowtrain job $SLURM_JOB_ID on $SLURM_JOB_NODELIST, restart ${SLURM_RESTART_COUNT:-0}, $(date -u "
         "+%FT%TZ)\"\n";
  out += launch_command(r) + "\n";
  return out;
}

}  // namespace ft::launch
