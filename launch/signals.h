// SIGUSR1 and SIGTERM (SLURM's warning before preemption, and the kill itself)
// only set a flag here; the trainer checks it at the next step boundary, where
// the ranks agree, checkpoint and exit with kExitCheckpointed.
#pragma once

namespace ft::launch {

// Installed at the start of `train`, before anything slow, and kept until exit.
void install_stop_signal_handlers();
// The signal number received since installation, or 0.
int received_stop_signal();
const char* signal_name(int signal_number);

}  // namespace ft::launch
