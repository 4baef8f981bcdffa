#include "launch/subprocess.h"

#include <fmt/core.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "framework/core/check.h"

extern char** environ;

namespace ft::launch {

ProcessResult run_process(const std::vector<std::string>& argv) {
  FT_CHECK(!argv.empty(), "run_process needs a program name");
  int pipe_fds[2];
  FT_CHECK(::pipe(pipe_fds) == 0, "pipe() failed: {}", std::strerror(errno));
  // posix_spawn rather than fork: rank 0 of an MPI job calls this, and a forked
  // copy of an MPI process is not safe with every transport.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[1]);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int spawn_error = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  ProcessResult result;
  if (spawn_error != 0) {
    ::close(pipe_fds[0]);
    result.exit_code = 127;
    result.output = fmt::format("cannot run '{}': {}", argv[0], std::strerror(spawn_error));
    return result;
  }
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n > 0) result.output.append(buffer, size_t(n));
    else if (n == 0 || errno != EINTR) break;
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace ft::launch
