// Each test's own scratch folder: a fresh folder with a unique name under
// $FLOWTRAIN_SCRATCH_ROOT (CTest points it into the build tree) or else the system
// temp folder ($TMPDIR), so tests running side by side (ctest -j2) never share one.
// Removed at destruction when the running Boost test case passed; kept, and named
// in the log, when it failed, for a look. tests/support/scratch.py is the same
// rule for the Python drivers.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <string>

namespace ft::testing {

// Where scratch folders go: $FLOWTRAIN_SCRATCH_ROOT, else the system temp folder.
inline std::filesystem::path scratch_root() {
  const char* root = std::getenv("FLOWTRAIN_SCRATCH_ROOT");
  return root && *root ? std::filesystem::path(root) : std::filesystem::temp_directory_path();
}

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag = "test");
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  std::string str(const std::string& name = "") const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace ft::testing
