// The message of the ft::Error a call throws, for tests of one-line causes.
#pragma once
#include <functional>
#include <string>

#include "framework/core/check.h"

namespace ft::testing {

// "no error" when fn throws none, so a test looking for a cause in it fails.
inline std::string error_message(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace ft::testing
