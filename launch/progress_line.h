// A throttled progress line on stderr for long commands (data convert, eval, sample,
// interpolate, ckpt verify, data verify): done/total, rate and ETA. On a terminal it
// rewrites one line about once a second (nothing before the first second, so quick
// runs stay quiet). To a file or pipe (logs, SLURM output) it appends full lines,
// so logs stay short: one every 30 s (data convert), or one per tenth of the total
// (the commands that end: at most ten lines, the last at 100%).
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace ft::launch {

// HH:MM:SS; "--:--:--" when unknown (not finite or negative).
std::string format_duration(double seconds);

// When a line goes to a file or pipe.
enum class FileCadence {
  every_interval,  // one per interval (30 s by default)
  every_tenth,     // one each time done passes another tenth of total, whatever the time
};

struct ProgressOptions {
  std::string unit = "images";  // what done and total count
  // < 0: the default for the stream (1 s on a terminal, 30 s otherwise); 0: never print.
  double interval_seconds = -1.0;
  FileCadence file_cadence = FileCadence::every_interval;
};

class ProgressLine {
 public:
  ProgressLine(std::FILE* out, std::string what, ProgressOptions options = {});
  ~ProgressLine();  // ends a terminal line that was drawn
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // `done` of `total`; prints when the cadence says so. A terminal line already
  // drawn is redrawn at done == total, so it ends showing 100%.
  void update(int64_t done, int64_t total);

 private:
  using Clock = std::chrono::steady_clock;
  bool due(Clock::time_point now, int64_t done, int64_t total);
  void print(Clock::time_point now, int64_t done, int64_t total);

  std::FILE* out_;
  std::string what_;
  ProgressOptions options_;
  bool terminal_;
  double interval_;
  Clock::time_point start_, last_;
  int64_t tenths_printed_ = 0;
  bool drawn_ = false;
};

}  // namespace ft::launch
