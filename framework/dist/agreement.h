// Checks that run on every rank and end in agreement. Start-up checks may fail on
// one rank only (its own files, environment or --set values under MPMD); if that
// rank simply exited, the others would wait forever in their next collective. So
// every rank runs its part, then all of them learn every outcome in one collective
// and fail together, with the failing rank's own message.
#pragma once
#include <functional>
#include <string>

#include "framework/core/check.h"
#include "framework/dist/communicator.h"

namespace ft::dist {

// A failure every rank of the job knows about: each rank throws it, so all can exit
// together without aborting the job. what() is the cause of the lowest failing rank,
// prefixed "rank N: " when not every rank failed.
class AgreedFailure : public Error {
 public:
  AgreedFailure(const std::string& message, int first_failed_rank, int failed_ranks)
      : Error(message), first_failed_rank_(first_failed_rank), failed_ranks_(failed_ranks) {}
  int first_failed_rank() const { return first_failed_rank_; }
  int failed_ranks() const { return failed_ranks_; }

 private:
  int first_failed_rank_, failed_ranks_;
};

// Runs `work` on this rank, then gathers every rank's outcome (a collective: call it
// on every rank at the same point). When any rank's work threw, every rank throws
// AgreedFailure. `work` may itself run collectives only if every rank reaches them
// (e.g. a decision rank 0 broadcasts); a failure before one would desynchronise.
void run_agreed(Communicator& comm, const std::function<void()>& work);

}  // namespace ft::dist
