// flowtrain sample --checkpoint PATH|--run-dir DIR --n N --out FILE.png [--out-dir DIR]
//                  [--temperature T] [--seed S] [--label K --guidance W]
//                  [--method sequential|jacobi [--jacobi-block B] [--tolerance T] [--max-iterations K]]
// Vector flows: --samples FILE.npy (the samples, f32 [n, D]) and, for D = 2, --out
// FILE.png: the learned density as a heat map with the samples over it.
#include <fmt/core.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "framework/io/npy_writer.h"
#include "framework/io/png_writer.h"
#include "launch/density_map.h"
#include "launch/commands.h"
#include "launch/slurm_environment.h"
#include "launch/model_loading.h"
#include "launch/progress_line.h"
#include "launch/sampling.h"

namespace ft::launch {

namespace {

struct SampleArguments {
  CheckpointChoice model;
  std::string out, out_dir, samples;
  int64_t n = 16;
  double temperature = 1.0, guidance = 0.0, attention_temperature = 1.0;
  uint64_t seed = 0;
  int64_t label = -1;
  bool no_denoise = false;
  std::string method = "sequential";
  int64_t jacobi_block = 0;  // 0: every token of a block at once
  double tolerance = std::numeric_limits<double>::quiet_NaN();  // unset: kDefaultTolerance
  int64_t max_iterations = 0;
};

// An eighth of one 8-bit level in TARFLOW's [-1, 1] model space: invisible in a PNG.
constexpr double kDefaultTolerance = 1e-3;

// How TARFLOW's blocks are inverted; Glow has no autoregressive inverse to choose.
layers::AutoregressiveInversion inversion_of(const SampleArguments& args, const LoadedModel& loaded) {
  layers::AutoregressiveInversion inversion;
  if (args.method == "sequential") {
    if (args.jacobi_block != 0 || !std::isnan(args.tolerance) || args.max_iterations != 0)
      FT_FAIL("--jacobi-block, --tolerance and --max-iterations need --method jacobi");
    return inversion;
  }
  if (loaded.config.model.kind != "tarflow")
    FT_FAIL("--method {} applies to TARFLOW models; this checkpoint is a {} model", args.method,
            loaded.config.model.kind);
  if (args.jacobi_block < 0) FT_FAIL("--jacobi-block must be >= 0 (0: whole blocks), got {}", args.jacobi_block);
  double tolerance = std::isnan(args.tolerance) ? kDefaultTolerance : args.tolerance;
  if (!(tolerance >= 0.0)) FT_FAIL("--tolerance must be >= 0, got {}", args.tolerance);
  if (args.max_iterations < 0) FT_FAIL("--max-iterations must be >= 0 (0: exact), got {}", args.max_iterations);
  inversion.jacobi_block = args.jacobi_block;
  inversion.tolerance = tolerance;
  inversion.max_iterations = args.max_iterations;
  return inversion;
}

// DIR/sample_00000.png, ...: one file per image, in the grid's order.
void write_each_sample(const layers::FlowModel& model, const Tensor& images, const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) FT_FAIL("--out-dir {}: cannot create: {}", dir, error.message());
  const layers::DataScaling s = model.scaling();
  for (int64_t i = 0; i < images.size(0); ++i) {
    io::ImageGrid one = io::make_image_grid(images.slice(0, i, i + 1), 1, s.shift, s.brightest);
    const std::string path = (std::filesystem::path(dir) / fmt::format("sample_{:05d}.png", i)).string();
    io::write_png_file(path, one);
  }
}

// What a vector flow's samples become: an npy file, and for 2-D flows a density map.
nlohmann::json write_vector_samples(const SampleArguments& args, LoadedModel& loaded, const Tensor& samples) {
  nlohmann::json out = {{"examples", args.n}, {"features", loaded.model->dims()}};
  if (!args.samples.empty()) {
    io::write_npy_file(args.samples, samples);
    out["samples"] = args.samples;
  }
  if (!args.out.empty()) {
    DensityMap map = draw_density_map(*loaded.model, samples);
    io::write_png_file(args.out, map.picture);
    out["out"] = args.out;
    out["extent"] = {map.low, map.high};
  }
  return out;
}

void check_outputs(const SampleArguments& args, const layers::FlowModel& model) {
  if (model.is_image_model()) {
    if (args.out.empty()) FT_FAIL("--out FILE.png is required");
    if (!args.samples.empty()) FT_FAIL("--samples FILE.npy is for vector flows; this model draws images (--out)");
    return;
  }
  if (!args.out_dir.empty()) FT_FAIL("--out-dir writes images; this model draws vectors (--samples FILE.npy)");
  if (args.out.empty() && args.samples.empty()) FT_FAIL("give --samples FILE.npy (and, for 2-D flows, --out FILE.png)");
  if (!args.out.empty() && model.dims() != 2)
    FT_FAIL("--out draws the density of 2-D flows; this flow has {} features (use --samples FILE.npy)", model.dims());
}

void run_sample(const SampleArguments& args) {
  auto comm = start_ranks();
  LoadedModel loaded = load_model(args.model, comm);
  if (comm->rank() != 0) return;
  if (args.n < 1) FT_FAIL("--n must be >= 1, got {}", args.n);
  check_outputs(args, *loaded.model);
  int64_t classes = loaded.config.model.num_classes;
  GridRequest request;
  request.count = args.n;
  request.seed = args.seed;
  request.options.temperature = args.temperature;
  request.options.guidance = args.guidance;
  request.options.attention_temperature = args.attention_temperature;
  request.options.denoise = !args.no_denoise;
  request.options.inversion = inversion_of(args, loaded);
  layers::InversionStats stats;
  request.options.inversion.stats = &stats;
  if (args.label >= 0) {
    if (classes == 0) FT_FAIL("--label {}: the model is unconditional (model.num_classes = 0)", args.label);
    if (args.label >= classes) FT_FAIL("--label {} is outside [0, {})", args.label, classes);
    request.options.labels =
        Tensor::from_vector(std::vector<int64_t>(size_t(args.n), args.label), {args.n}, loaded.model->device());
  } else if (classes > 0) {
    std::vector<int64_t> labels(size_t(args.n));
    for (int64_t i = 0; i < args.n; ++i) labels[size_t(i)] = i % classes;
    request.options.labels = Tensor::from_vector(labels, {args.n}, loaded.model->device());
  }
  if (args.guidance != 0.0 && loaded.config.model.kind == "glow")
    FT_FAIL("--guidance applies to TARFLOW models; this checkpoint is a Glow model");
  Tensor images;
  auto start = std::chrono::steady_clock::now();
  {
    ProgressLine progress(stderr, "sampling", {.unit = "steps", .file_cadence = FileCadence::every_tenth});
    request.options.progress = [&](int64_t done, int64_t total) { progress.update(done, total); };
    images = draw_samples(*loaded.model, request);
  }  // the progress line ends before the JSON
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!loaded.model->is_image_model()) {
    nlohmann::json out = write_vector_samples(args, loaded, images);
    out["sampling_seconds"] = seconds;
    out.update(describe_source(loaded));
    fmt::print("{}\n", out.dump());
    return;
  }
  io::ImageGrid grid = tile_samples(*loaded.model, images);
  io::write_png_file(args.out, grid);
  if (!args.out_dir.empty()) write_each_sample(*loaded.model, images, args.out_dir);
  nlohmann::json out = {{"out", args.out},
                         {"images", args.n},
                         {"grid", {grid.height, grid.width, grid.channels}},
                         {"temperature", args.temperature},
                         {"out_dir", args.out_dir},
                         {"sampling_seconds", seconds}};
  if (loaded.config.model.kind == "tarflow")
    out["inversion"] = {{"method", args.method},
                        {"jacobi_block", request.options.inversion.jacobi_block},
                        {"tolerance", request.options.inversion.tolerance},
                        {"windows", stats.windows},
                        {"iterations", stats.iterations}};
  out.update(describe_source(loaded));
  fmt::print("{}\n", out.dump());
}

}  // namespace

void register_sample_command(CLI::App& app) {
  auto args = std::make_shared<SampleArguments>();
  CLI::App* cmd = app.add_subcommand("sample", "draw a PNG grid of samples from a checkpoint");
  add_checkpoint_options(*cmd, args->model);
  cmd->add_option("--n", args->n, "number of samples");
  cmd->add_option("--out", args->out, "output PNG file (images: the grid; 2-D vector flows: the density map)");
  cmd->add_option("--samples", args->samples, "vector flows: write the samples as FILE.npy (f32 [n, D])");
  cmd->add_option("--out-dir", args->out_dir, "also write each sample as DIR/sample_NNNNN.png");
  cmd->add_option("--temperature", args->temperature, "prior temperature (default 1)");
  cmd->add_option("--seed", args->seed, "random seed");
  cmd->add_option("--label", args->label, "class label for conditional models (default: cycle through classes)");
  cmd->add_option("--guidance", args->guidance, "classifier-free guidance weight (TARFLOW)");
  cmd->add_option("--attention-temperature", args->attention_temperature,
                  "guidance by attention temperature for unconditional TARFLOW models");
  cmd->add_flag("--no-denoise", args->no_denoise, "skip TARFLOW's score-based denoising step");
  cmd->add_option("--method", args->method, "TARFLOW inverse: sequential (one pass per token) or jacobi")
      ->check(CLI::IsMember({"sequential", "jacobi"}));
  cmd->add_option("--jacobi-block", args->jacobi_block, "tokens solved together by --method jacobi (0: all)");
  cmd->add_option("--tolerance", args->tolerance, "--method jacobi: stop a window when no token moves more (1e-3)");
  cmd->add_option("--max-iterations", args->max_iterations,
                  "--method jacobi: iterations per window (0: the window's size, exact)");
  cmd->callback([args] { run_sample(*args); });
}

}  // namespace ft::launch
