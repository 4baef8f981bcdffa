// flowtrain info CONFIG.toml: the model summary as JSON (layers, parameter count), with the
// resolved settings of every section.
// flowtrain info --backends: the kernel table as JSON, per device kind the ops
// (kernels.h entry-point names) and the dtypes each backend has a kernel for.
// flowtrain info --transforms: the transform types of model.kind = "flow", with their keys.
#include <fmt/core.h>

#include "framework/kernels/dispatch.h"
#include "launch/commands.h"
#include "launch/config.h"
#include "launch/flow_builder.h"
#include "launch/model_factory.h"

namespace ft::launch {

namespace {

nlohmann::json backend_coverage() {
  nlohmann::json out = nlohmann::json::object();
  for (DeviceKind kind : {DeviceKind::cpu, DeviceKind::cuda}) {
    nlohmann::json ops = nlohmann::json::object();
    for (const kernels::OpCoverage* op : kernels::kernel_table().ops()) {
      const kernels::DTypeSet& dtypes = op->dtypes[size_t(kind)];
      if (dtypes.empty()) continue;
      nlohmann::json names = nlohmann::json::array();
      for (DType d : dtypes.list()) names.push_back(dtype_name(d));
      ops[op->name] = names;
    }
    out[kernels::device_kind_name(kind)] = ops;
  }
  return out;
}

}  // namespace

void register_info_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("info", "print the model summary of a config, or the kernel coverage, as JSON");
  auto config_path = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  auto backends = std::make_shared<bool>(false);
  auto transforms = std::make_shared<bool>(false);
  CLI::Option* config_option = cmd->add_option("config", *config_path, "TOML config");
  CLI::Option* backends_flag =
      cmd->add_flag("--backends", *backends, "the ops and dtypes each backend (cpu, cuda) has kernels for");
  CLI::Option* transforms_flag = cmd->add_flag("--transforms", *transforms,
                                               "the transform types of [[model.transforms]], with their keys");
  config_option->excludes(backends_flag);
  config_option->excludes(transforms_flag);
  cmd->add_option("--set", *overrides, "override section.key=value")->take_all()->needs(config_option);
  cmd->callback([config_path, overrides, backends, transforms] {
    if (*backends) {
      fmt::print("{}\n", backend_coverage().dump(2));
      return;
    }
    if (*transforms) {
      fmt::print("{}", describe_transform_types());
      return;
    }
    if (config_path->empty()) FT_FAIL("flowtrain info needs a CONFIG.toml, --backends or --transforms");
    Config config = Config::load(*config_path, *overrides);
    Generator gen(uint64_t(config.train.seed), 0);
    auto model = build_model(config, gen);
    nlohmann::json summary = model->summary();
    summary["config"] = *config_path;
    summary["settings"] = config.to_json();  // what a checkpoint records and resume compares
    fmt::print("{}\n", summary.dump(2));
  });
}

}  // namespace ft::launch
