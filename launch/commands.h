// Each subcommand family registers itself on the CLI; main() only dispatches.
#pragma once
#include <CLI/CLI.hpp>

namespace ft::launch {

void register_version_command(CLI::App& app);
void register_info_command(CLI::App& app);
void register_data_commands(CLI::App& app);
void register_train_command(CLI::App& app);
void register_eval_command(CLI::App& app);
void register_sample_command(CLI::App& app);
void register_reconstruct_command(CLI::App& app);
void register_interpolate_command(CLI::App& app);
void register_export_command(CLI::App& app);
void register_bench_command(CLI::App& app);
void register_ckpt_commands(CLI::App& app);
void register_submit_command(CLI::App& app);

}  // namespace ft::launch
