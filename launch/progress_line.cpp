#include "launch/progress_line.h"

#include <fmt/core.h>
#include <unistd.h>

#include <cmath>

namespace ft::launch {

namespace {

// Whole numbers from 10 on; two significant digits below, so 0.25 checkpoints/s shows.
std::string format_rate(double rate) {
  return rate >= 10.0 ? fmt::format("{:.0f}", rate) : fmt::format("{:.2g}", rate);
}

}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--:--";
  auto s = int64_t(seconds);
  return fmt::format("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
}

ProgressLine::ProgressLine(std::FILE* out, std::string what, ProgressOptions options)
    : out_(out), what_(std::move(what)), options_(std::move(options)), terminal_(isatty(fileno(out)) != 0) {
  interval_ = options_.interval_seconds >= 0.0 ? options_.interval_seconds : (terminal_ ? 1.0 : 30.0);
  start_ = last_ = Clock::now();
}

ProgressLine::~ProgressLine() {
  if (drawn_ && terminal_) fmt::print(out_, "\n");
}

bool ProgressLine::due(Clock::time_point now, int64_t done, int64_t total) {
  if (interval_ <= 0.0) return false;
  if (!terminal_ && options_.file_cadence == FileCadence::every_tenth) {
    int64_t tenths = total > 0 ? 10 * done / total : 0;
    if (tenths <= tenths_printed_) return false;
    tenths_printed_ = tenths;
    return true;
  }
  if (terminal_ && drawn_ && done == total) return true;
  return std::chrono::duration<double>(now - last_).count() >= interval_;
}

void ProgressLine::update(int64_t done, int64_t total) {
  Clock::time_point now = Clock::now();
  if (!due(now, done, total)) return;
  last_ = now;
  print(now, done, total);
}

void ProgressLine::print(Clock::time_point now, int64_t done, int64_t total) {
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double rate = double(done) / std::max(elapsed, 1e-9);
  double percent = total > 0 ? 100.0 * double(done) / double(total) : 0.0;
  const std::string& unit = options_.unit;
  std::string eta = format_duration(rate > 0 ? double(total - done) / rate : -1.0);
  std::string line = fmt::format("{}: {}/{} {} ({:.1f}%) | {} {}/s | ETA {}", what_, done, total, unit, percent,
                                 format_rate(rate), unit, eta);
  // \r and a cleared tail redraw the terminal line in place; elsewhere one line each.
  std::fputs((terminal_ ? "\r" + line + "\033[K" : line + "\n").c_str(), out_);
  std::fflush(out_);
  drawn_ = true;
}

}  // namespace ft::launch
