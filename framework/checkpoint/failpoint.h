// Fault injection for checkpoint saves. FLOWTRAIN_CHECKPOINT_FAULT="<point>:<rank>"
// makes that rank raise(SIGKILL) when save() reaches the named point, so tests can
// check that a job killed anywhere in a save leaves a usable checkpoint behind.
// "<point>:<rank>:TERM" (or USR1) raises that signal instead: a second stop signal
// arriving in the middle of a save must leave the save to finish.
// Always compiled in: the cost is one getenv per save.
//
// Points, in the order a save passes them:
//   before_shard, mid_shard (half the data written, file not closed),
//   after_shard_write (before fsync/rename), after_shard_rename, before_gather,
//   after_gather, mid_manifest (manifest temp partly written), after_manifest
//   (before the folder rename), after_folder_rename (before COMMITTED),
//   after_committed (before `latest` is replaced). The last five are rank 0's.
#pragma once
#include <csignal>
#include <string>
#include <string_view>

namespace ft::checkpoint {

class Failpoint {
 public:
  // Reads FLOWTRAIN_CHECKPOINT_FAULT; throws ft::Error on an unknown point name,
  // so a typo in a test cannot silently inject nothing.
  static Failpoint from_env(int rank);
  // Raises the armed signal (SIGKILL unless told otherwise) when `point` is the armed one.
  void hit(std::string_view point) const;
  bool armed() const { return !point_.empty(); }

 private:
  std::string point_;  // empty: disarmed (not set, or set for another rank)
  int signal_ = SIGKILL;
};

}  // namespace ft::checkpoint
