#include "framework/checkpoint/failpoint.h"

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdlib>
#include <string>

#include "framework/core/check.h"

namespace ft::checkpoint {

namespace {

constexpr std::array<std::string_view, 10> kPoints = {
    "before_shard",  "mid_shard",    "after_shard_write", "after_shard_rename", "before_gather",
    "after_gather",  "mid_manifest", "after_manifest",    "after_folder_rename", "after_committed"};

bool known(std::string_view point) { return std::find(kPoints.begin(), kPoints.end(), point) != kPoints.end(); }

}  // namespace

Failpoint Failpoint::from_env(int rank) {
  Failpoint failpoint;
  const char* value = std::getenv("FLOWTRAIN_CHECKPOINT_FAULT");
  if (!value || !*value) return failpoint;
  const std::string spec = value;
  std::string point = spec, rank_text, signal_text;
  const size_t first = spec.find(':');
  if (first == std::string::npos) FT_FAIL("FLOWTRAIN_CHECKPOINT_FAULT='{}': expected <point>:<rank>", spec);
  point = spec.substr(0, first);
  rank_text = spec.substr(first + 1);
  const size_t second = rank_text.find(':');
  if (second != std::string::npos) {
    signal_text = rank_text.substr(second + 1);
    rank_text = rank_text.substr(0, second);
  }
  if (!known(point)) FT_FAIL("FLOWTRAIN_CHECKPOINT_FAULT='{}': unknown point '{}'", spec, point);
  int target = -1;
  try {
    target = std::stoi(rank_text);
  } catch (const std::exception&) {
    FT_FAIL("FLOWTRAIN_CHECKPOINT_FAULT='{}': rank '{}' is not a number", spec, rank_text);
  }
  int signal_number = SIGKILL;
  if (signal_text == "TERM") signal_number = SIGTERM;
  else if (signal_text == "USR1") signal_number = SIGUSR1;
  else if (!signal_text.empty())
    FT_FAIL("FLOWTRAIN_CHECKPOINT_FAULT='{}': signal '{}' is not TERM or USR1", spec, signal_text);
  if (target == rank) {
    failpoint.point_ = point;
    failpoint.signal_ = signal_number;
  }
  return failpoint;
}

void Failpoint::hit(std::string_view point) const {
  if (point_.empty() || point != point_) return;
  std::raise(signal_);
}

}  // namespace ft::checkpoint
