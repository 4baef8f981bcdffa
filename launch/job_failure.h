// How a command that every rank of a job runs (train, eval, bench, data convert)
// ends when something fails, so that nothing ever hangs:
// - a failure the ranks agreed on (dist::AgreedFailure, e.g. a start-up check):
//   rank 0 prints its one line and every rank exits 1 together;
// - any other exception on a rank, which the others may be waiting on in a
//   collective: that rank prints "rank N: cause" and MPI_Abort ends the job.
// In a world of one, either is one line and exit 1.
#pragma once
#include <functional>

#include "framework/dist/communicator.h"

namespace ft::launch {

void run_on_every_rank(dist::Communicator& comm, const std::function<void()>& body);

}  // namespace ft::launch
