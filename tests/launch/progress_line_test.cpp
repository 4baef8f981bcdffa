// ProgressLine into a file (tmpfile(): never a terminal): one plain line per tenth
// of the total with the every_tenth cadence, nothing before the first interval with
// every_interval, nothing at all with interval 0.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "launch/progress_line.h"

using namespace ft::launch;

namespace {

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

File scratch_file() {
  File file(std::tmpfile());
  BOOST_REQUIRE(file);
  return file;
}

// Feeds done = 0..total, one at a time, to a line that is destroyed before reading.
void count_up(std::FILE* out, int64_t total, const ProgressOptions& options) {
  ProgressLine progress(out, "checking", options);
  for (int64_t done = 0; done <= total; ++done) progress.update(done, total);
}

std::string contents(std::FILE* file) {
  std::rewind(file);
  std::string text;
  for (int c = std::fgetc(file); c != EOF; c = std::fgetc(file)) text += char(c);
  return text;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(progress_line)

BOOST_AUTO_TEST_CASE(a_file_gets_one_plain_line_per_tenth) {
  File out = scratch_file();
  count_up(out.get(), 37, {.unit = "batches", .file_cadence = FileCadence::every_tenth});
  const std::string text = contents(out.get());
  BOOST_CHECK(text.find('\r') == std::string::npos);
  BOOST_CHECK(text.find('\033') == std::string::npos);
  const std::vector<std::string> lines = lines_of(text);
  BOOST_REQUIRE_EQUAL(lines.size(), 10u);
  const std::regex format(R"(checking: (\d+)/37 batches \((\d+\.\d)%\) \| [0-9.e+-]+ batches/s \| ETA \d\d:\d\d:\d\d)");
  for (size_t i = 0; i < lines.size(); ++i) {
    std::smatch match;
    BOOST_REQUIRE_MESSAGE(std::regex_match(lines[i], match, format), lines[i]);
    // Line i is the first update at or past (i + 1) tenths: done = ceil(37 (i + 1) / 10).
    const int64_t done = std::stoll(match[1]);
    BOOST_CHECK_EQUAL(done, (37 * int64_t(i + 1) + 9) / 10);
  }
  BOOST_CHECK(lines.back().starts_with("checking: 37/37 batches (100.0%)"));
  BOOST_CHECK(lines.back().ends_with("ETA 00:00:00"));
}

BOOST_AUTO_TEST_CASE(a_jump_over_several_tenths_prints_one_line) {
  File out = scratch_file();
  {
    ProgressLine progress(out.get(), "verifying", {.unit = "checkpoints", .file_cadence = FileCadence::every_tenth});
    progress.update(0, 3);
    progress.update(1, 3);  // 33%: three tenths at once
    progress.update(1, 3);  // no new tenth
    progress.update(3, 3);
  }
  const std::vector<std::string> lines = lines_of(contents(out.get()));
  BOOST_REQUIRE_EQUAL(lines.size(), 2u);
  BOOST_CHECK(lines[0].starts_with("verifying: 1/3 checkpoints (33.3%) | "));
  BOOST_CHECK(lines[1].starts_with("verifying: 3/3 checkpoints (100.0%) | "));
}

BOOST_AUTO_TEST_CASE(the_interval_cadence_waits_for_its_first_interval) {
  File out = scratch_file();
  count_up(out.get(), 1000, {.interval_seconds = 3600.0});
  BOOST_CHECK_EQUAL(contents(out.get()), "");
}

BOOST_AUTO_TEST_CASE(interval_zero_prints_nothing_in_either_cadence) {
  File out = scratch_file();
  count_up(out.get(), 50, {.interval_seconds = 0.0, .file_cadence = FileCadence::every_tenth});
  count_up(out.get(), 50, {.interval_seconds = 0.0});
  BOOST_CHECK_EQUAL(contents(out.get()), "");
}

BOOST_AUTO_TEST_CASE(durations_read_as_clock_times) {
  BOOST_CHECK_EQUAL(format_duration(3725.9), "01:02:05");
  BOOST_CHECK_EQUAL(format_duration(-1.0), "--:--:--");
}

BOOST_AUTO_TEST_SUITE_END()
