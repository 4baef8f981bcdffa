// flowtrain bench CONFIG.toml [--mode train|eval|sample] [--steps N] [--threads N]
// [--set k=v]...: on random images (no data or files needed) times one of
//   train:  training steps of train.global_batch;
//   eval:   no-grad log-likelihood passes;
//   sample: drawing a batch at temperature 1 without the denoising step (TARFLOW:
//           sequential KV-cache inversion), the pure inverse pass;
// and prints JSON: images/s, ms per step, peak RSS, the peak of tensor memory on the
// model's device, the FLOPs of a step (executed, and the model's), the model FLOP/s
// per rank and, on a GPU whose peak is known, MFU; for training also the share of
// step time spent waiting on gradient all-reduce (on a GPU: the compute stream's
// stalls, from CUDA events). In eval and sample each rank handles its share of
// train.global_batch; train.precision sets autocast in all three.
#include <fmt/core.h>
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "framework/core/allocator.h"
#include "framework/dist/communicator.h"
#include "framework/kernels/cuda/cuda_runtime.h"
#include "framework/kernels/flop_count.h"
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
#include "launch/training_checks.h"
#if defined(FLOWTRAIN_HAVE_CUDA)
#include "framework/kernels/cuda/cuda_allocator.h"
#endif

namespace ft::launch {

namespace {

struct BenchArguments {
  std::string config;
  std::string mode = "train";
  std::vector<std::string> overrides;
  int64_t steps = 10, warmup = 2;
  int threads = 0;
  std::string device;  // overrides train.device when set
};

// The caching allocator's peak on the model's device: the most bytes handed to
// tensors at once (on the CPU a part of the peak RSS, which also counts code,
// libraries and the allocator's cached blocks).
double peak_tensor_megabytes(Device device) {
#if defined(FLOWTRAIN_HAVE_CUDA)
  if (device.kind == DeviceKind::cuda) return double(cuda_allocator(device.index).stats().peak_bytes_in_use) / 1048576.0;
#endif
  (void)device;
  return double(cpu_allocator().stats().peak_bytes_in_use) / 1048576.0;
}

double peak_rss_megabytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

struct Timings {
  std::vector<double> step_ms;  // sorted
  double total_seconds = 0.0;
  double executed_flops = 0.0;  // of the first timed step on this rank (kernels/flop_count.h)
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
    if (i == 0) {
      kernels::FlopCounter counter;
      step();
      t.executed_flops = counter.flops();
    } else {
      step();
    }
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

// A training step's model FLOPs on this rank: three forwards' (backward counted as
// twice the forward, the usual MFU convention: recomputation and attention's
// recomputed probabilities are work the hardware does, not model FLOPs).
double training_model_flops(const Config& config, layers::FlowModel& model, dist::Communicator& comm) {
  const int64_t local = config.train.global_batch / comm.size();
  Tensor images = random_images(model, local, uint64_t(config.train.seed), comm.rank()).to(model.device());
  kernels::FlopCounter counter;
  NoGradGuard no_grad;
  AutocastGuard autocast(precision_dtype(config.train.precision));
  model.forward(images, Tensor());
  return 3.0 * counter.flops();
}

// Dense peak TFLOP/s of the GPUs whose numbers are published (NVIDIA's data sheets,
// without sparsity): the tensor-core peak for bf16/fp16, the CUDA-core peak for
// fp32. Unknown devices and the CPU: none, and no MFU.
std::optional<double> peak_tflops(Device device, const std::string& precision) {
  if (device.kind != DeviceKind::cuda) return std::nullopt;
  const std::string name = cuda_device_name(device.index);
  const bool half = precision != "fp32";
  const bool pcie = name.find("PCIe") != std::string::npos;
  if (name.find("H100") != std::string::npos || name.find("H200") != std::string::npos)
    return half ? (pcie ? 756.0 : 989.4) : (pcie ? 51.2 : 66.9);
  if (name.find("A100") != std::string::npos) return half ? 312.0 : 19.5;
  return std::nullopt;
}

void report(const BenchArguments& args, const Config& config, const Timings& t, int64_t parameters,
            double seconds_waiting, double model_flops, Device device, dist::Communicator& comm) {
  double waiting = comm.all_reduce_scalar(seconds_waiting, dist::ReduceOp::average);
  double rss = comm.all_reduce_scalar(peak_rss_megabytes(), dist::ReduceOp::max);
  double tensor_peak = comm.all_reduce_scalar(peak_tensor_megabytes(device), dist::ReduceOp::max);
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
                        {"device", device.str()},
                        {"peak_rss_mb", rss},
                        {"peak_tensor_mb", tensor_peak}};
  if (args.mode == "train") out["allreduce_wait_share"] = waiting / total;
  // FLOPs per rank: each rank computes its share of the batch.
  const double model_tflops = model_flops * double(args.steps) / total / 1e12;
  out["executed_tflop_per_step_per_rank"] = t.executed_flops / 1e12;
  out["model_tflop_per_step_per_rank"] = model_flops / 1e12;
  out["model_tflops_per_rank"] = model_tflops;
  const std::optional<double> peak = peak_tflops(device, config.train.precision);
  if (peak) {
    out["peak_tflops"] = *peak;
    out["mfu"] = model_tflops / *peak;
  }
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
      std::vector<std::string> overrides = args.overrides;
      if (!args.device.empty()) overrides.push_back("train.device=" + args.device);
      config.emplace(Config::load(args.config, overrides));
    });
    if (args.threads > 0) omp_set_num_threads(args.threads);
    if (args.mode == "train") {
      TrainerOptions options;
      options.synthetic_data = true;
      trainer = std::make_unique<Trainer>(*config, "", comm, options);
      Timings t = time_training(args, *trainer, *comm);
      const double waiting = trainer->reducer().seconds_waiting();
      const double model_flops = training_model_flops(*config, trainer->model(), *comm);
      report(args, *config, t, trainer->model().parameter_count(), waiting, model_flops, trainer->model().device(),
             *comm);
      return;
    }
    Generator init(uint64_t(config->train.seed), 0x1A17);
    std::shared_ptr<layers::FlowModel> model = build_model(*config, init);
    const Device device = resolve_training_device(config->train.device, comm->local_rank());
    model->to(device);
    Timings t = time_inference(args, *config, *model, device, *comm);
    report(args, *config, t, model->parameter_count(), 0.0, t.executed_flops, device, *comm);
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
  cmd->add_option("--device", args->device, "cpu, cuda (the local rank's GPU) or cuda:N; default train.device");
  cmd->add_option("--set", args->overrides, "override section.key=value (repeatable)")->take_all();
  cmd->callback([args] { run_bench(*args); });
}

}  // namespace ft::launch
