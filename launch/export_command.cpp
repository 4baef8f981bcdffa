// flowtrain export --checkpoint PATH|--run-dir DIR [--ema] --out model.safetensors:
// a checkpoint's weights under the names PyTorch code expects (see weight_export.h).
#include <fmt/core.h>

#include "launch/commands.h"
#include "launch/slurm_environment.h"
#include "launch/model_loading.h"
#include "launch/weight_export.h"

namespace ft::launch {

namespace {

struct ExportArguments {
  CheckpointChoice model;
  std::string out;
  bool ema = false;
};

void run_export(const ExportArguments& args) {
  auto comm = start_ranks();
  LoadedModel loaded = load_model(args.model, comm, args.ema ? Weights::ema : Weights::parameters);
  if (comm->rank() != 0) return;
  export_weights(args.out, loaded.config, *loaded.model);
  nlohmann::json out = {{"out", args.out},
                         {"kind", loaded.config.model.kind},
                         {"parameters", loaded.layout->parameter_count()}};
  out.update(describe_source(loaded));
  fmt::print("{}\n", out.dump());
}

}  // namespace

void register_export_command(CLI::App& app) {
  auto args = std::make_shared<ExportArguments>();
  CLI::App* cmd = app.add_subcommand("export", "write a checkpoint's weights as safetensors (ml-tarflow names)");
  add_checkpoint_options(*cmd, args->model);
  cmd->add_flag("--ema", args->ema, "export the EMA weights instead of the trained parameters");
  cmd->add_option("--out", args->out, "output .safetensors file")->required();
  cmd->callback([args] { run_export(*args); });
}

}  // namespace ft::launch
