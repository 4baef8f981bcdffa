// flowtrain bench CONFIG.toml [--steps N] [--threads N] [--set k=v]...: training
// steps on random images (no data or files needed), as JSON: images/s, ms per
// step, peak RSS, and the share of step time spent waiting on gradient all-reduce.
#include <fmt/core.h>
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "framework/dist/communicator.h"
#include "framework/dist/agreement.h"
#include "launch/commands.h"
#include "launch/slurm_environment.h"
#include "launch/job_failure.h"
#include "launch/trainer.h"

namespace ft::launch {

namespace {

struct BenchArguments {
  std::string config;
  std::vector<std::string> overrides;
  int64_t steps = 10, warmup = 2;
  int threads = 0;
};

double peak_rss_megabytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

void bench_steps(const BenchArguments& args, const Config& config, Trainer& trainer, dist::Communicator& comm) {
  for (int64_t i = 0; i < args.warmup; ++i) trainer.train_step();  // allocator and ActNorm init
  comm.barrier();
  trainer.reducer().reset_timers();
  std::vector<double> step_ms;
  auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < args.steps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    trainer.train_step();
    step_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double waiting = comm.all_reduce_scalar(trainer.reducer().seconds_waiting(), dist::ReduceOp::average);
  double rss = comm.all_reduce_scalar(peak_rss_megabytes(), dist::ReduceOp::max);
  total = comm.all_reduce_scalar(total, dist::ReduceOp::max);
  if (comm.rank() != 0) return;
  std::sort(step_ms.begin(), step_ms.end());
  int64_t global_batch = config.integer("train.global_batch");
  nlohmann::json out = {{"config", args.config},
                        {"model", config.model_kind()},
                        {"parameters", trainer.model().parameter_count()},
                        {"ranks", comm.size()},
                        {"threads_per_rank", omp_get_max_threads()},
                        {"precision", config.string("train.precision")},
                        {"global_batch", global_batch},
                        {"steps", args.steps},
                        {"images_per_sec", double(global_batch * args.steps) / total},
                        {"ms_per_step_median", step_ms[step_ms.size() / 2]},
                        {"ms_per_step_mean", total * 1e3 / double(args.steps)},
                        {"peak_rss_mb", rss},
                        {"allreduce_wait_share", waiting / total}};
  fmt::print("{}\n", out.dump());
}

void run_bench(const BenchArguments& args) {
  auto comm = start_ranks();
  std::unique_ptr<Trainer> trainer;  // outlives the body: a rank that fails aborts the job before it is torn down
  run_on_every_rank(*comm, [&] {
    std::optional<Config> config;
    dist::run_agreed(*comm, [&] {
      if (args.steps < 1) FT_FAIL("--steps must be >= 1, got {}", args.steps);
      config.emplace(Config::load(args.config, args.overrides));
    });
    if (args.threads > 0) omp_set_num_threads(args.threads);
    TrainerOptions options;
    options.synthetic_data = true;
    trainer = std::make_unique<Trainer>(*config, "", comm, options);
    bench_steps(args, *config, *trainer, *comm);
  });
}

}  // namespace

void register_bench_command(CLI::App& app) {
  auto args = std::make_shared<BenchArguments>();
  CLI::App* cmd = app.add_subcommand("bench", "time training steps of a config on random images; prints JSON");
  cmd->add_option("config", args->config, "TOML config")->required();
  cmd->add_option("--steps", args->steps, "timed steps (default 10)");
  cmd->add_option("--warmup", args->warmup, "untimed steps first (default 2)");
  cmd->add_option("--threads", args->threads, "OpenMP threads per rank (default: OMP_NUM_THREADS)");
  cmd->add_option("--set", args->overrides, "override section.key=value (repeatable)")->take_all();
  cmd->callback([args] { run_bench(*args); });
}

}  // namespace ft::launch
