#include "launch/slurm_environment.h"

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "framework/core/check.h"
#include "launch/exit_codes.h"
#include "launch/subprocess.h"

namespace ft::launch {

namespace {

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::string(value) : std::string();
}

int64_t environment_integer(const char* name) {
  std::string value = environment(name);
  if (value.empty()) return 0;
  char* end = nullptr;
  long long parsed = std::strtoll(value.c_str(), &end, 10);
  return end && *end == '\0' && parsed > 0 ? int64_t(parsed) : 0;
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

std::string rank_range(int first, int last) {
  return first == last ? fmt::format("rank {}", first) : fmt::format("ranks {}-{}", first, last);
}

}  // namespace

std::optional<SlurmJob> slurm_job_from_environment() {
  SlurmJob job;
  job.job_id = environment("SLURM_JOB_ID");
  if (job.job_id.empty()) return std::nullopt;
  job.array_job_id = environment("SLURM_ARRAY_JOB_ID");
  job.array_task_id = environment("SLURM_ARRAY_TASK_ID");
  job.restart_count = environment_integer("SLURM_RESTART_COUNT");
  job.node_list = environment("SLURM_JOB_NODELIST");
  job.node_name = environment("SLURMD_NODENAME");
  if (job.node_name.empty()) job.node_name = host_name();
  // Started by Open MPI's mpirun inside the allocation, SLURM's task variables are
  // those of the step that runs mpirun's daemons (one per node); mpirun sized its
  // world from the allocation's task slots, which it passes as the universe size.
  if (!environment("OMPI_COMM_WORLD_SIZE").empty()) {
    job.expected_ranks = environment_integer("OMPI_UNIVERSE_SIZE");
    job.expected_source = "task slots of the allocation (OMPI_UNIVERSE_SIZE)";
  } else {
    job.expected_ranks = environment_integer("SLURM_NTASKS");
    job.expected_source = "tasks (SLURM_NTASKS)";
  }
  return job;
}

void check_step_has_pmi() {
  if (environment("SLURM_JOB_ID").empty() || environment("SLURM_STEP_ID").empty()) return;
  int64_t tasks = environment_integer("SLURM_STEP_NUM_TASKS");
  if (tasks < 2) return;
  for (const char* variable : {"PMIX_RANK", "PMI_RANK", "PMI_FD", "OMPI_COMM_WORLD_SIZE"})
    if (!environment(variable).empty()) return;
  FT_FAIL("srun started {} tasks (SLURM job {}, step {}) without PMI, so each would be rank 0 of a world of one: "
          "launch with `srun --mpi=pmix flowtrain train ...` (or mpirun inside the allocation), as `flowtrain "
          "submit` does",
          tasks, environment("SLURM_JOB_ID"), environment("SLURM_STEP_ID"));
}

std::shared_ptr<dist::Communicator> start_ranks() {
  try {
    check_step_has_pmi();
  } catch (const Error& e) {
    fmt::print(stderr, "flowtrain: error: {}\n", e.what());
    throw ReportedError{kExitError};
  }
  return dist::make_mpi_communicator();
}

void check_world_matches_job(const SlurmJob& job, int world_size) {
  if (job.expected_ranks == 0 || job.expected_ranks == world_size) return;
  if (world_size == 1)
    FT_FAIL("SLURM job {} has {} {} but this MPI world has 1 rank: the tasks were started without PMI, each as "
            "its own job of one; launch with `srun --mpi=pmix flowtrain train ...` (or mpirun inside the "
            "allocation), as `flowtrain submit` does",
            job.job_id, job.expected_ranks, job.expected_source);
  FT_FAIL("SLURM job {} has {} {} but the MPI world has {} ranks: launch one rank per task with `srun --mpi=pmix` "
          "or a plain `mpirun` (no -np) inside the allocation",
          job.job_id, job.expected_ranks, job.expected_source, world_size);
}

void gather_placement(SlurmJob& job, dist::Communicator& comm) {
  job.rank_nodes = comm.all_gather_string(job.node_name);
}

std::string SlurmJob::requeue_id() const {
  if (!array_job_id.empty() && !array_task_id.empty()) return array_job_id + "_" + array_task_id;
  return job_id;
}

std::string SlurmJob::placement() const {
  // Nodes in order of their first rank; each with its (usually contiguous) ranks.
  std::vector<std::pair<std::string, std::vector<int>>> nodes;
  for (int r = 0; r < int(rank_nodes.size()); ++r) {
    auto it = std::find_if(nodes.begin(), nodes.end(), [&](const auto& n) { return n.first == rank_nodes[size_t(r)]; });
    if (it == nodes.end()) nodes.push_back({rank_nodes[size_t(r)], {r}});
    else it->second.push_back(r);
  }
  std::string out;
  for (const auto& [node, ranks] : nodes) {
    std::string list;
    for (size_t i = 0; i < ranks.size();) {
      size_t j = i;
      while (j + 1 < ranks.size() && ranks[j + 1] == ranks[j] + 1) ++j;
      list += (list.empty() ? "" : ", ") + rank_range(ranks[i], ranks[j]);
      i = j + 1;
    }
    out += fmt::format("{}{}: {}", out.empty() ? "" : "; ", node, list);
  }
  return out;
}

std::string requeue_job(const SlurmJob& job) {
  ProcessResult result = run_process({"scontrol", "requeue", job.requeue_id()});
  if (result.exit_code == 0) return "";
  std::string message = result.output;
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return fmt::format("`scontrol requeue {}` failed (exit {}): {}", job.requeue_id(), result.exit_code,
                     message.empty() ? "no message" : message);
}

}  // namespace ft::launch
