// The SLURM pieces that need no cluster: the job script's time and quoting rules,
// rank placement, requeue ids and the world-size checks against the environment.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "framework/core/check.h"
#include "launch/job_script.h"
#include "launch/slurm_environment.h"

using namespace ft::launch;

namespace {

// Sets environment variables for one test and restores them after.
class ScopedEnvironment {
 public:
  void set(const char* name, const char* value) {
    const char* old = std::getenv(name);
    saved_.push_back({name, old ? std::optional<std::string>(old) : std::nullopt});
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~ScopedEnvironment() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) ::setenv(it->first.c_str(), it->second->c_str(), 1);
      else ::unsetenv(it->first.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ft::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(slurm)

BOOST_AUTO_TEST_CASE(time_limits_in_slurms_formats) {
  BOOST_TEST(time_limit_seconds("24:00:00") == 86400);
  BOOST_TEST(time_limit_seconds("00:01:30") == 90);
  BOOST_TEST(time_limit_seconds("90") == 5400);       // minutes
  BOOST_TEST(time_limit_seconds("10:30") == 630);     // minutes:seconds
  BOOST_TEST(time_limit_seconds("2-12") == 216000);   // days-hours
  BOOST_TEST(time_limit_seconds("1-00:00:01") == 86401);
  BOOST_TEST(error_of([] { time_limit_seconds("soon"); }).find("--time 'soon'") != std::string::npos);
  BOOST_TEST(error_of([] { time_limit_seconds("00:00:30"); }).find("one-minute") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(shell_quoting) {
  BOOST_TEST(shell_quote("/data/in64/train") == "/data/in64/train");
  BOOST_TEST(shell_quote("optim.lr=0.0005") == "optim.lr=0.0005");
  BOOST_TEST(shell_quote("a b") == "'a b'");
  BOOST_TEST(shell_quote("it's") == "'it'\\''s'");
  BOOST_TEST(shell_quote("$HOME") == "'$HOME'");
}

BOOST_AUTO_TEST_CASE(placement_and_requeue_ids) {
  SlurmJob job;
  job.job_id = "4711";
  job.rank_nodes = {"gpu017", "gpu017", "gpu018", "gpu018", "gpu017"};
  BOOST_TEST(job.placement() == "gpu017: ranks 0-1, rank 4; gpu018: ranks 2-3");
  BOOST_TEST(job.requeue_id() == "4711");
  job.array_job_id = "4700";
  job.array_task_id = "11";
  BOOST_TEST(job.requeue_id() == "4700_11");
}

BOOST_AUTO_TEST_CASE(job_from_the_environment) {
  ScopedEnvironment env;
  env.set("SLURM_JOB_ID", nullptr);
  BOOST_TEST(!slurm_job_from_environment().has_value());
  env.set("SLURM_JOB_ID", "12");
  env.set("SLURM_RESTART_COUNT", "2");
  env.set("SLURM_JOB_NODELIST", "n[1-2]");
  env.set("SLURMD_NODENAME", "n2");
  env.set("SLURM_NTASKS", "4");
  env.set("OMPI_COMM_WORLD_SIZE", nullptr);
  std::optional<SlurmJob> job = slurm_job_from_environment();
  BOOST_REQUIRE(job.has_value());
  BOOST_TEST(job->restart_count == 2);
  BOOST_TEST(job->node_name == "n2");
  BOOST_TEST(job->expected_ranks == 4);
  BOOST_TEST(error_of([&] { check_world_matches_job(*job, 4); }).empty());
  BOOST_TEST(error_of([&] { check_world_matches_job(*job, 1); }).find("without PMI") != std::string::npos);
  BOOST_TEST(error_of([&] { check_world_matches_job(*job, 2); }).find("the MPI world has 2 ranks") !=
             std::string::npos);
  // Under mpirun the task variables describe mpirun's daemons; the universe is the allocation.
  env.set("OMPI_COMM_WORLD_SIZE", "4");
  env.set("OMPI_UNIVERSE_SIZE", "4");
  env.set("SLURM_NTASKS", "2");
  job = slurm_job_from_environment();
  BOOST_TEST(job->expected_ranks == 4);
  BOOST_TEST(error_of([&] { check_world_matches_job(*job, 4); }).empty());
}

BOOST_AUTO_TEST_CASE(srun_without_pmi_is_caught_before_mpi) {
  ScopedEnvironment env;
  env.set("SLURM_JOB_ID", "12");
  env.set("SLURM_STEP_ID", "0");
  env.set("SLURM_STEP_NUM_TASKS", "4");
  for (const char* name : {"PMIX_RANK", "PMI_RANK", "PMI_FD", "OMPI_COMM_WORLD_SIZE"}) env.set(name, nullptr);
  BOOST_TEST(error_of(check_step_has_pmi).find("srun started 4 tasks (SLURM job 12, step 0) without PMI") !=
             std::string::npos);
  env.set("PMIX_RANK", "3");
  BOOST_TEST(error_of(check_step_has_pmi).empty());
  env.set("PMIX_RANK", nullptr);
  env.set("SLURM_STEP_NUM_TASKS", "1");
  BOOST_TEST(error_of(check_step_has_pmi).empty());
}

BOOST_AUTO_TEST_SUITE_END()
