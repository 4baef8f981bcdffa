// Runs another program (sbatch, scontrol) and collects what it printed.
#pragma once
#include <string>
#include <vector>

namespace ft::launch {

struct ProcessResult {
  int exit_code = 0;   // the program's exit status; 127 when it could not be started
  std::string output;  // stdout and stderr together, in the order written
};

// Starts argv[0] (looked up on PATH) with argv and waits for it. A program that
// cannot be started is a result (exit 127, the reason in output), not an exception:
// callers word the error for their user.
ProcessResult run_process(const std::vector<std::string>& argv);

}  // namespace ft::launch
