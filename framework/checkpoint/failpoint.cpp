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
  const size_t colon = spec.rfind(':');
  if (colon == std::string::npos) FT_FAIL("FLOWTRAIN_CHECKPOINT_FAULT='{}': expected <point>:<rank>", spec);
  const std::string point = spec.substr(0, colon);
  if (!known(point)) FT_FAIL("FLOWTRAIN_CHECKPOINT_FAULT='{}': unknown point '{}'", spec, point);
  int target = -1;
  try {
    target = std::stoi(spec.substr(colon + 1));
  } catch (const std::exception&) {
    FT_FAIL("FLOWTRAIN_CHECKPOINT_FAULT='{}': rank '{}' is not a number", spec, spec.substr(colon + 1));
  }
  if (target == rank) failpoint.point_ = point;
  return failpoint;
}

void Failpoint::hit(std::string_view point) const {
  if (point_.empty() || point != point_) return;
  std::raise(SIGKILL);
}

}  // namespace ft::checkpoint
