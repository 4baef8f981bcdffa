// flowtrain info CONFIG.toml: the model summary as JSON (layers, parameter count).
#include <fmt/core.h>

#include "launch/commands.h"
#include "launch/config.h"
#include "launch/model_factory.h"

namespace ft::launch {

void register_info_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("info", "print the model summary of a config as JSON");
  auto config_path = std::make_shared<std::string>();
  auto overrides = std::make_shared<std::vector<std::string>>();
  cmd->add_option("config", *config_path, "TOML config")->required();
  cmd->add_option("--set", *overrides, "override section.key=value")->take_all();
  cmd->callback([config_path, overrides] {
    Config config = Config::load(*config_path, *overrides);
    Generator gen(uint64_t(config.integer("train.seed")), 0);
    auto model = build_model(config, gen);
    nlohmann::json summary = model->summary();
    summary["config"] = *config_path;
    fmt::print("{}\n", summary.dump(2));
  });
}

}  // namespace ft::launch
