#include "launch/progress_line.h"

#include <fmt/core.h>
#include <unistd.h>

#include <cmath>

namespace ft::launch {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--:--";
  auto s = int64_t(seconds);
  return fmt::format("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
}

ProgressLine::ProgressLine(std::FILE* out, std::string what, double interval_seconds)
    : out_(out), what_(std::move(what)), terminal_(isatty(fileno(out)) != 0) {
  interval_ = interval_seconds >= 0.0 ? interval_seconds : (terminal_ ? 1.0 : 30.0);
  start_ = last_ = Clock::now();
}

ProgressLine::~ProgressLine() {
  if (drawn_ && terminal_) fmt::print(out_, "\n");
}

void ProgressLine::update(int64_t done, int64_t total) {
  if (interval_ <= 0.0) return;
  Clock::time_point now = Clock::now();
  if (std::chrono::duration<double>(now - last_).count() < interval_) return;
  last_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double rate = double(done) / std::max(elapsed, 1e-9);
  double percent = total > 0 ? 100.0 * double(done) / double(total) : 0.0;
  std::string line = fmt::format("{}: {}/{} images ({:.1f}%) | {:.0f} images/s | ETA {}", what_, done, total, percent,
                                 rate, format_duration(rate > 0 ? double(total - done) / rate : -1.0));
  // \r and a cleared tail redraw the terminal line in place; elsewhere one line each.
  std::fputs((terminal_ ? "\r" + line + "\033[K" : line + "\n").c_str(), out_);
  std::fflush(out_);
  drawn_ = true;
}

}  // namespace ft::launch
