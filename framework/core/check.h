// Checked conditions: a failed check throws ft::Error carrying the condition,
// file:line and a message with the offending value. Callers at the top (the CLI)
// print what() as one line and exit non-zero.
#pragma once
#include <fmt/format.h>
#include <stdexcept>
#include <string>

namespace ft {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void throw_check_failure(const char* condition, const char* file, int line,
                                      const std::string& message);

}  // namespace ft

// FT_CHECK(cond, "fmt", args...): the message should name the value that was wrong.
#define FT_CHECK(cond, ...)                                                              \
  do {                                                                                   \
    if (!(cond)) [[unlikely]]                                                            \
      ::ft::throw_check_failure(#cond, __FILE__, __LINE__, ::fmt::format(__VA_ARGS__));  \
  } while (0)

// Bad input from a user (config, file, CLI): a one-line cause without the condition.
#define FT_FAIL(...) throw ::ft::Error(::fmt::format(__VA_ARGS__))
