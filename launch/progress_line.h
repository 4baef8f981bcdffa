// A throttled progress line on stderr for long commands (data convert): done/total,
// rate and ETA. On a terminal it rewrites one line about once a second; to a file or
// pipe (logs, SLURM output) it appends a full line every 30 s so logs stay short.
// Nothing is printed before the first interval has passed, so quick runs stay quiet.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace ft::launch {

// HH:MM:SS; "--:--:--" when unknown (not finite or negative).
std::string format_duration(double seconds);

class ProgressLine {
 public:
  // interval_seconds < 0: the default for `out` (1 s on a terminal, 30 s otherwise);
  // 0: never print.
  ProgressLine(std::FILE* out, std::string what, double interval_seconds = -1.0);
  ~ProgressLine();  // ends a terminal line that was drawn
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // `done` of `total` (e.g. images); prints when an interval has passed since the last line.
  void update(int64_t done, int64_t total);

 private:
  using Clock = std::chrono::steady_clock;
  std::FILE* out_;
  std::string what_;
  bool terminal_;
  double interval_;
  Clock::time_point start_, last_;
  bool drawn_ = false;
};

}  // namespace ft::launch
