// flowtrain sample --checkpoint PATH|--run-dir DIR --n N --out FILE.png [--out-dir DIR]
//                  [--temperature T] [--seed S] [--label K --guidance W]
#include <fmt/core.h>

#include "framework/io/png_writer.h"
#include "launch/commands.h"
#include "launch/slurm_environment.h"
#include "launch/model_loading.h"
#include "launch/progress_line.h"
#include "launch/sampling.h"

namespace ft::launch {

namespace {

struct SampleArguments {
  CheckpointChoice model;
  std::string out, out_dir;
  int64_t n = 16;
  double temperature = 1.0, guidance = 0.0, attention_temperature = 1.0;
  uint64_t seed = 0;
  int64_t label = -1;
  bool no_denoise = false;
};

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

void run_sample(const SampleArguments& args) {
  auto comm = start_ranks();
  LoadedModel loaded = load_model(args.model, comm);
  if (comm->rank() != 0) return;
  if (args.n < 1) FT_FAIL("--n must be >= 1, got {}", args.n);
  if (args.out.empty()) FT_FAIL("--out FILE.png is required");
  int64_t classes = loaded.config.integer("model.num_classes");
  GridRequest request;
  request.count = args.n;
  request.seed = args.seed;
  request.options.temperature = args.temperature;
  request.options.guidance = args.guidance;
  request.options.attention_temperature = args.attention_temperature;
  request.options.denoise = !args.no_denoise;
  if (args.label >= 0) {
    if (classes == 0) FT_FAIL("--label {}: the model is unconditional (model.num_classes = 0)", args.label);
    if (args.label >= classes) FT_FAIL("--label {} is outside [0, {})", args.label, classes);
    request.options.labels = Tensor::from_vector(std::vector<int64_t>(size_t(args.n), args.label), {args.n});
  } else if (classes > 0) {
    std::vector<int64_t> labels(size_t(args.n));
    for (int64_t i = 0; i < args.n; ++i) labels[size_t(i)] = i % classes;
    request.options.labels = Tensor::from_vector(labels, {args.n});
  }
  if (args.guidance != 0.0 && loaded.config.model_kind() == "glow")
    FT_FAIL("--guidance applies to TARFLOW models; this checkpoint is a Glow model");
  Tensor images;
  {
    ProgressLine progress(stderr, "sampling", {.unit = "steps", .file_cadence = FileCadence::every_tenth});
    request.options.progress = [&](int64_t done, int64_t total) { progress.update(done, total); };
    images = draw_samples(*loaded.model, request);
  }  // the progress line ends before the JSON
  io::ImageGrid grid = tile_samples(*loaded.model, images);
  io::write_png_file(args.out, grid);
  if (!args.out_dir.empty()) write_each_sample(*loaded.model, images, args.out_dir);
  nlohmann::json out = {{"out", args.out},
                         {"images", args.n},
                         {"grid", {grid.height, grid.width, grid.channels}},
                         {"temperature", args.temperature},
                         {"out_dir", args.out_dir}};
  out.update(describe_source(loaded));
  fmt::print("{}\n", out.dump());
}

}  // namespace

void register_sample_command(CLI::App& app) {
  auto args = std::make_shared<SampleArguments>();
  CLI::App* cmd = app.add_subcommand("sample", "draw a PNG grid of samples from a checkpoint");
  add_checkpoint_options(*cmd, args->model);
  cmd->add_option("--n", args->n, "number of samples");
  cmd->add_option("--out", args->out, "output PNG file")->required();
  cmd->add_option("--out-dir", args->out_dir, "also write each sample as DIR/sample_NNNNN.png");
  cmd->add_option("--temperature", args->temperature, "prior temperature (default 1)");
  cmd->add_option("--seed", args->seed, "random seed");
  cmd->add_option("--label", args->label, "class label for conditional models (default: cycle through classes)");
  cmd->add_option("--guidance", args->guidance, "classifier-free guidance weight (TARFLOW)");
  cmd->add_option("--attention-temperature", args->attention_temperature,
                  "guidance by attention temperature for unconditional TARFLOW models");
  cmd->add_flag("--no-denoise", args->no_denoise, "skip TARFLOW's score-based denoising step");
  cmd->callback([args] { run_sample(*args); });
}

}  // namespace ft::launch
