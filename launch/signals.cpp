#include "launch/signals.h"

#include <csignal>

namespace ft::launch {

namespace {
volatile std::sig_atomic_t stop_signal = 0;

// SIGTERM stays once received: it means SLURM is ending the job, which a later
// SIGUSR1 (the time-limit warning, answered by a requeue) must not override.
extern "C" void on_stop_signal(int signal_number) {
  if (stop_signal != SIGTERM) stop_signal = signal_number;
}
}  // namespace

void install_stop_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  // Blocking calls (MPI, file reads) resume instead of failing. The handler stays
  // installed for the life of the process, so a second signal during a checkpoint
  // write only sets the flag again: it never ends the process half-way.
  action.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int received_stop_signal() { return stop_signal; }

const char* signal_name(int signal_number) {
  switch (signal_number) {
    case SIGUSR1: return "SIGUSR1";
    case SIGTERM: return "SIGTERM";
    default: return "signal";
  }
}

}  // namespace ft::launch
