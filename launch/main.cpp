// The flowtrain binary: every failure ends as one line on stderr and a non-zero exit.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <exception>

#include "launch/commands.h"
#include "launch/exit_codes.h"

int main(int argc, char** argv) {
  CLI::App app{"flowtrain: train normalizing flows (Glow, TARFLOW, the flow library) data-parallel on sharded HDF5 sets"};
  app.require_subcommand(1);
  ft::launch::register_version_command(app);
  ft::launch::register_info_command(app);
  ft::launch::register_data_commands(app);
  ft::launch::register_train_command(app);
  ft::launch::register_eval_command(app);
  ft::launch::register_sample_command(app);
  ft::launch::register_reconstruct_command(app);
  ft::launch::register_interpolate_command(app);
  ft::launch::register_export_command(app);
  ft::launch::register_bench_command(app);
  ft::launch::register_ckpt_commands(app);
  ft::launch::register_submit_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const ft::launch::ReportedError& e) {
    return e.code;
  } catch (const std::exception& e) {
    fmt::print(stderr, "flowtrain: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
