// The sbatch script `flowtrain submit` writes to RUN_DIR/job.sbatch: the allocation
// (#SBATCH lines), SLURM's time-limit warning and requeue, output files in the run
// directory, and one launch of `flowtrain train ... --resume auto`.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace ft::launch {

struct JobRequest {
  std::filesystem::path flowtrain;  // absolute path of the binary the job runs
  std::filesystem::path config;     // absolute path of CONFIG.toml
  std::vector<std::string> overrides;
  std::filesystem::path run_dir;    // absolute
  std::filesystem::path working_dir;  // the job runs here, so relative paths in the config mean the same
  int nodes = 1;
  int tasks_per_node = 1;
  int gpus_per_node = 0;   // > 0: requested as gres, one task per GPU
  int cpus_per_task = 0;   // 0: SLURM's default
  std::string time;        // [D-]HH:MM:SS
  std::string partition, account, qos, job_name;
  std::string launcher = "srun";  // "srun" (srun --mpi=pmix) or "mpirun"
  int signal_seconds = 120;       // SIGUSR1 this long before the time limit
  bool requeue = true;
};

// Seconds of a SLURM time limit ("MM", "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM",
// "D-HH:MM:SS"); throws ft::Error naming --time when it is none of these.
int64_t time_limit_seconds(const std::string& time);

// Checks the request (throws ft::Error naming the flag) and returns the script.
std::string job_script(const JobRequest& request);

// A word for a POSIX shell: itself when it is plainly safe, else single-quoted.
std::string shell_quote(const std::string& word);

}  // namespace ft::launch
