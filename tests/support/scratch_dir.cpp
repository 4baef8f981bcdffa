#include "tests/support/scratch_dir.h"

#include <stdlib.h>

#include <boost/test/results_collector.hpp>
#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <stdexcept>

namespace ft::testing {

namespace {

bool current_test_failed() {
  namespace utf = boost::unit_test;
  if (!utf::framework::test_in_progress()) return false;
  return !utf::results_collector.results(utf::framework::current_test_case().p_id).passed();
}

}  // namespace

ScratchDir::ScratchDir(const std::string& tag) {
  const std::filesystem::path root = scratch_root();
  std::filesystem::create_directories(root);
  std::string pattern = (root / ("flowtrain-" + tag + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error("cannot make a scratch folder " + pattern + ": " + std::strerror(errno));
  path_ = pattern;
}

ScratchDir::~ScratchDir() {
  if (current_test_failed()) {
    std::cerr << "scratch folder kept for a look: " << path_.string() << "\n";
    return;
  }
  std::error_code ignored;  // a destructor cannot fail the test; a leftover folder is harmless
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace ft::testing
