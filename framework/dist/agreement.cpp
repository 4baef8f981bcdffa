#include "framework/dist/agreement.h"

#include <fmt/format.h>

#include <exception>
#include <vector>

namespace ft::dist {

void run_agreed(Communicator& comm, const std::function<void()>& work) {
  std::string failure;  // empty: this rank's work succeeded
  try {
    work();
  } catch (const std::exception& e) {
    failure = e.what();
    if (failure.empty()) failure = "unknown error";
  }
  if (comm.size() == 1) {
    if (!failure.empty()) throw AgreedFailure(failure, 0, 1);
    return;
  }
  std::vector<std::string> outcomes = comm.all_gather_string(failure);
  int first = -1, failed = 0;
  for (int r = 0; r < int(outcomes.size()); ++r) {
    if (outcomes[size_t(r)].empty()) continue;
    if (first < 0) first = r;
    ++failed;
  }
  if (failed == 0) return;
  std::string message = outcomes[size_t(first)];
  if (failed < comm.size()) {
    message = fmt::format("rank {}: {}", first, message);
    if (failed > 1) message += fmt::format(" (and {} more of the {} ranks failed)", failed - 1, comm.size());
  }
  throw AgreedFailure(message, first, failed);
}

}  // namespace ft::dist
