// flowtrain's exit codes (documented in the README).
#pragma once

namespace ft::launch {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;          // bad input or a failure; one line on stderr says why
inline constexpr int kExitUsage = 2;          // command-line syntax (CLI11)
inline constexpr int kExitCheckpointed = 75;  // stopped by SIGUSR1/SIGTERM after writing a checkpoint: requeue me

// An error already reported on stderr (by rank 0): main() exits without repeating it.
struct ReportedError {
  int code = kExitError;
};

}  // namespace ft::launch
