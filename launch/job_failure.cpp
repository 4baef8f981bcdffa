#include "launch/job_failure.h"

#include <fmt/core.h>

#include "framework/dist/agreement.h"
#include "launch/exit_codes.h"

namespace ft::launch {

void run_on_every_rank(dist::Communicator& comm, const std::function<void()>& body) {
  try {
    body();
  } catch (const ReportedError&) {
    throw;
  } catch (const dist::AgreedFailure& e) {
    if (comm.rank() == 0) fmt::print(stderr, "flowtrain: error: {}\n", e.what());
    throw ReportedError{kExitError};
  } catch (const std::exception& e) {
    if (comm.size() == 1) throw;  // main() prints it
    fmt::print(stderr, "flowtrain: error: rank {}: {}\n", comm.rank(), e.what());
    std::fflush(stderr);
    dist::MpiWorld::instance().abort(kExitError);
  }
}

}  // namespace ft::launch
