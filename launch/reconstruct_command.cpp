// flowtrain reconstruct --checkpoint PATH|--run-dir DIR [--n N] [--data DIR] --out FILE.png:
// the first N test images above decode(encode(x)), and the largest error as JSON:
// the invertibility check of a trained model.
#include <fmt/core.h>

#include <numeric>

#include "framework/io/image_grid.h"
#include "framework/io/png_writer.h"
#include "framework/ops/ops.h"
#include "launch/commands.h"
#include "launch/slurm_environment.h"
#include "launch/latent_pictures.h"
#include "launch/model_loading.h"

namespace ft::launch {

namespace {

struct ReconstructArguments {
  CheckpointChoice model;
  std::string out;
  int64_t n = 8;
};

void run_reconstruct(const ReconstructArguments& args) {
  if (args.n < 1) FT_FAIL("--n must be >= 1, got {}", args.n);
  auto comm = start_ranks();
  LoadedModel loaded = load_model(args.model, comm);
  if (comm->rank() != 0) return;
  require_image_model(loaded, "reconstruct");
  std::vector<int64_t> indices(size_t(args.n));
  std::iota(indices.begin(), indices.end(), int64_t(0));
  const ModelImages images =
      to_model_space(datasets::read_images_at(loaded.config.data.test, indices), loaded.config, *loaded.model);
  const Reconstruction result = reconstruct(*loaded.model, images);
  const layers::DataScaling s = loaded.model->scaling();
  // One row of originals, one row of their reconstructions.
  io::ImageGrid grid = io::make_image_grid(concat({images.x, result.decoded}, 0), int(args.n), s.shift, s.brightest);
  io::write_png_file(args.out, grid);
  nlohmann::json out = {{"out", args.out},
                         {"images", args.n},
                         {"max_abs_error", result.max_abs_error},
                         {"log_prob", result.log_prob.to_double_vector()},
                         {"data", loaded.config.data.test}};
  out.update(describe_source(loaded));
  fmt::print("{}\n", out.dump());
}

}  // namespace

void register_reconstruct_command(CLI::App& app) {
  auto args = std::make_shared<ReconstructArguments>();
  CLI::App* cmd = app.add_subcommand("reconstruct", "test images next to decode(encode(x)), with the largest error");
  add_checkpoint_options(*cmd, args->model, true);
  cmd->add_option("--n", args->n, "number of test images, the first N of the set (default 8)");
  cmd->add_option("--out", args->out, "output PNG file")->required();
  cmd->callback([args] { run_reconstruct(*args); });
}

}  // namespace ft::launch
