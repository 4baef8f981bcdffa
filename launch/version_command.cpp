#include <fmt/core.h>

#include "framework/core/dtype.h"
#include "launch/commands.h"

namespace ft::launch {

void register_version_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("version", "print the build configuration");
  cmd->callback([] {
#if defined(FLOWTRAIN_HAVE_CUDA)
    const char* cuda = "on";
#else
    const char* cuda = "off";
#endif
    fmt::print("flowtrain 0.1.0 (cuda backend: {}, cpu blas: OpenBLAS/OpenMP)\n", cuda);
  });
}

}  // namespace ft::launch
