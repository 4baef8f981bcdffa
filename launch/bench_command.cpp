// flowtrain bench CONFIG.toml [--mode train|eval|sample] [--steps N] [--threads N]
// [--set k=v]...: on random images (no data or files needed) times one of
//   train:  training steps of train.global_batch;
//   eval:   no-grad log-likelihood passes;
//   sample: drawing a batch at temperature 1 without the denoising step (TARFLOW:
//           sequential KV-cache inversion), the pure inverse pass;
// and prints JSON: images/s, ms per step, peak RSS, and for training the share of
// step time spent waiting on gradient all-reduce. In eval and sample each rank
// handles its share of train.global_batch; train.precision sets autocast in all three.
#include <fmt/core.h>
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "framework/dist/communicator.h"
#include "framework/dist/agreement.h"
#include "framework/autograd/grad_mode.h"
#include "framework/precision/autocast.h"
#include "framework/random/generator.h"
#include "launch/commands.h"
#include "launch/training_data.h"
#include "launch/slurm_environment.h"
#include "launch/job_failure.h"
#include "launch/model_factory.h"
#include "launch/trainer.h"

namespace ft::launch {

namespace {

struct BenchArguments {
  std::string config;
  std::string mode = "train";
  std::vector<std::string> overrides;
  int64_t steps = 10, warmup = 2;
  int threads = 0;
};

double peak_rss_megabytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

struct Timings {
  std::vector<double> step_ms;  // sorted
  double total_seconds = 0.0;
};

// on_warm runs once the untimed steps are done (resetting the all-reduce timers).
template <class Step, class OnWarm>
Timings time_steps(const BenchArguments& args, dist::Communicator& comm, Step&& step, OnWarm&& on_warm) {
  for (int64_t i = 0; i < args.warmup; ++i) step();  // allocator, JIT kernels and ActNorm init
  comm.barrier();
  on_warm();
  Timings t;
  auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < args.steps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    step();
    t.step_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  t.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(t.step_ms.begin(), t.step_ms.end());
  return t;
}

// The examples of the eval and sample modes: this rank's share (training_data.h).
Tensor random_images(layers::FlowModel& model, int64_t count, uint64_t seed, int rank) {
  Generator gen(seed, 0xBE4C1000 + uint64_t(rank));
  return synthetic_examples(model, count, gen);
}

Timings time_training(const BenchArguments& args, Trainer& trainer, dist::Communicator& comm) {
  return time_steps(args, comm, [&] { trainer.train_step(); }, [&] { trainer.reducer().reset_timers(); });
}

// Eval and sample need the model alone: no optimizer state or gradients, so peak
// RSS is that of inference, as for the PyTorch peer.
Timings time_inference(const BenchArguments& args, const Config& config, layers::FlowModel& model, Device device,
                       dist::Communicator& comm) {
  const int64_t local = config.train.global_batch / comm.size();
  const uint64_t seed = uint64_t(config.train.seed);
  AutocastGuard autocast(precision_dtype(config.train.precision));
  auto nothing = [] {};
  if (args.mode == "eval") {
    Tensor images = random_images(model, local, seed, comm.rank()).to(device);
    return time_steps(args, comm, [&] {
      NoGradGuard no_grad;
      model.forward(images, Tensor());
    }, nothing);
  }
  layers::SampleOptions options;
  options.denoise = false;
  Generator gen(seed, 0xBE4C2000 + uint64_t(comm.rank()));
  return time_steps(args, comm, [&] {
    NoGradGuard no_grad;
    model.sample(local, options, gen);
  }, nothing);
}

void report(const BenchArguments& args, const Config& config, const Timings& t, int64_t parameters,
            double seconds_waiting, dist::Communicator& comm) {
  double waiting = comm.all_reduce_scalar(seconds_waiting, dist::ReduceOp::average);
  double rss = comm.all_reduce_scalar(peak_rss_megabytes(), dist::ReduceOp::max);
  double total = comm.all_reduce_scalar(t.total_seconds, dist::ReduceOp::max);
  if (comm.rank() != 0) return;
  int64_t global_batch = config.train.global_batch;
  nlohmann::json out = {{"config", args.config},
                        {"mode", args.mode},
                        {"model", config.model.kind},
                        {"parameters", parameters},
                        {"ranks", comm.size()},
                        {"threads_per_rank", omp_get_max_threads()},
                        {"precision", config.train.precision},
                        {"global_batch", global_batch},
                        {"steps", args.steps},
                        {"images_per_sec", double(global_batch * args.steps) / total},
                        {"ms_per_step_median", t.step_ms[t.step_ms.size() / 2]},
                        {"ms_per_step_mean", total * 1e3 / double(args.steps)},
                        {"peak_rss_mb", rss}};
  if (args.mode == "train") out["allreduce_wait_share"] = waiting / total;
  fmt::print("{}\n", out.dump());
}

void run_bench(const BenchArguments& args) {
  auto comm = start_ranks();
  std::unique_ptr<Trainer> trainer;  // outlives the body: a rank that fails aborts the job before it is torn down
  run_on_every_rank(*comm, [&] {
    std::optional<Config> config;
    dist::run_agreed(*comm, [&] {
      if (args.steps < 1) FT_FAIL("--steps must be >= 1, got {}", args.steps);
      if (args.warmup < 0) FT_FAIL("--warmup must be >= 0, got {}", args.warmup);
      config.emplace(Config::load(args.config, args.overrides));
    });
    if (args.threads > 0) omp_set_num_threads(args.threads);
    if (args.mode == "train") {
      TrainerOptions options;
      options.synthetic_data = true;
      trainer = std::make_unique<Trainer>(*config, "", comm, options);
      Timings t = time_training(args, *trainer, *comm);
      report(args, *config, t, trainer->model().parameter_count(), trainer->reducer().seconds_waiting(), *comm);
      return;
    }
    Generator init(uint64_t(config->train.seed), 0x1A17);
    std::shared_ptr<layers::FlowModel> model = build_model(*config, init);
    const Device device = parse_device(config->train.device);
    model->to(device);
    Timings t = time_inference(args, *config, *model, device, *comm);
    report(args, *config, t, model->parameter_count(), 0.0, *comm);
  });
}

}  // namespace

void register_bench_command(CLI::App& app) {
  auto args = std::make_shared<BenchArguments>();
  CLI::App* cmd =
      app.add_subcommand("bench", "time training steps, eval or sampling of a config on random images; prints JSON");
  cmd->add_option("config", args->config, "TOML config")->required();
  cmd->add_option("--mode", args->mode, "train (default), eval (no-grad log-likelihood) or sample")
      ->check(CLI::IsMember({"train", "eval", "sample"}));
  cmd->add_option("--steps", args->steps, "timed steps (default 10)");
  cmd->add_option("--warmup", args->warmup, "untimed steps first (default 2)");
  cmd->add_option("--threads", args->threads, "OpenMP threads per rank (default: OMP_NUM_THREADS)");
  cmd->add_option("--set", args->overrides, "override section.key=value (repeatable)")->take_all();
  cmd->callback([args] { run_bench(*args); });
}

}  // namespace ft::launch
