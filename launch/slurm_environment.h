// What a flowtrain process learns from SLURM when it runs inside a job: the job's
// identity (for logs and for requeueing itself), how many ranks the launch should
// have started, and which node each rank runs on.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "framework/dist/communicator.h"

namespace ft::launch {

struct SlurmJob {
  std::string job_id;          // SLURM_JOB_ID
  std::string array_job_id;    // SLURM_ARRAY_JOB_ID; empty outside job arrays
  std::string array_task_id;   // SLURM_ARRAY_TASK_ID
  int64_t restart_count = 0;   // SLURM_RESTART_COUNT: how often the job was requeued
  std::string node_list;       // SLURM_JOB_NODELIST
  std::string node_name;       // this process's node: SLURMD_NODENAME, else the host name
  // The ranks the launch should have started (0: unknown), and where that number came from.
  int64_t expected_ranks = 0;
  std::string expected_source;
  std::vector<std::string> rank_nodes;  // node of every rank, in rank order (gather_placement)

  // What `scontrol requeue` takes: JOBID, or ARRAYJOBID_TASKID for an array task.
  std::string requeue_id() const;
  // "n1: ranks 0-1; n2: ranks 2-3"
  std::string placement() const;
};

// The job this process runs in, or nothing when SLURM_JOB_ID is not set.
std::optional<SlurmJob> slurm_job_from_environment();

// Before MPI_Init: fails when srun started several tasks without a process
// management interface (PMIx, PMI-2), which would make each task a world of one
// (Open MPI then aborts in MPI_Init with a page about how it was built).
void check_step_has_pmi();

// What every command that runs on all ranks starts with: check_step_has_pmi (its
// failure printed by every task, as none knows it is rank 0), then the MPI world's
// communicator. MPI_Init comes after the check because Open MPI aborts inside it,
// with a page of its own, when srun gave it no PMI.
std::shared_ptr<dist::Communicator> start_ranks();

// Fails (on every rank, with one line) when the MPI world does not have the ranks
// the job asked for: srun without PMI starts N worlds of one.
void check_world_matches_job(const SlurmJob& job, int world_size);

// Collective: fills job.rank_nodes with every rank's node name.
void gather_placement(SlurmJob& job, dist::Communicator& comm);

// Asks SLURM to requeue the job (after a checkpoint at the time limit). Returns an
// empty string on success, else scontrol's message.
std::string requeue_job(const SlurmJob& job);

}  // namespace ft::launch
