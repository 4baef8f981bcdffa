// flowtrain interpolate --checkpoint PATH|--run-dir DIR --from-test I J [--steps K]
//                       [--data DIR] --out FILE.png: a strip of K images decoded from
// the straight path between two test images' latents, as in Glow's demos.
#include <fmt/core.h>

#include "framework/io/image_grid.h"
#include "framework/io/png_writer.h"
#include "launch/commands.h"
#include "launch/slurm_environment.h"
#include "launch/latent_pictures.h"
#include "launch/model_loading.h"
#include "launch/progress_line.h"

namespace ft::launch {

namespace {

struct InterpolateArguments {
  CheckpointChoice model;
  std::vector<int64_t> from_test;
  std::string out;
  int64_t steps = 9;
};

void run_interpolate(const InterpolateArguments& args) {
  if (args.steps < 2) FT_FAIL("--steps {}: a path needs at least its two endpoints", args.steps);
  auto comm = start_ranks();
  LoadedModel loaded = load_model(args.model, comm);
  if (comm->rank() != 0) return;
  require_image_model(loaded, "interpolate");
  const ModelImages pair = to_model_space(datasets::read_images_at(loaded.config.data.test, args.from_test),
                                          loaded.config, *loaded.model);
  Tensor path;
  {
    ProgressLine progress(stderr, "interpolating", {.file_cadence = FileCadence::every_tenth});
    auto report = [&](int64_t done, int64_t total) { progress.update(done, total); };
    path = interpolate(*loaded.model, pair, args.steps, report);
  }  // the progress line ends before the JSON
  const layers::DataScaling s = loaded.model->scaling();
  io::ImageGrid grid = io::make_image_grid(path, int(args.steps), s.shift, s.brightest);
  io::write_png_file(args.out, grid);
  nlohmann::json out = {{"out", args.out},
                         {"from_test", args.from_test},
                         {"steps", args.steps},
                         {"data", loaded.config.data.test}};
  out.update(describe_source(loaded));
  fmt::print("{}\n", out.dump());
}

}  // namespace

void register_interpolate_command(CLI::App& app) {
  auto args = std::make_shared<InterpolateArguments>();
  CLI::App* cmd = app.add_subcommand("interpolate", "decode the path between two test images' latents into a strip");
  add_checkpoint_options(*cmd, args->model, true);
  cmd->add_option("--from-test", args->from_test, "the two test images, by index in the test set")
      ->expected(2)
      ->required();
  cmd->add_option("--steps", args->steps, "images on the path, endpoints included (default 9)");
  cmd->add_option("--out", args->out, "output PNG file")->required();
  cmd->callback([args] { run_interpolate(*args); });
}

}  // namespace ft::launch
