#include "datasets/checksum.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "framework/core/check.h"

namespace ft::datasets {

std::string file_checksum(const std::filesystem::path& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!file) FT_FAIL("{}: cannot open to checksum", path.string());
  std::unique_ptr<XXH3_state_t, XXH_errorcode (*)(XXH3_state_t*)> state(XXH3_createState(), XXH3_freeState);
  XXH3_64bits_reset(state.get());
  std::vector<char> buffer(1 << 20);
  size_t got = 0;
  while ((got = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0)
    XXH3_64bits_update(state.get(), buffer.data(), got);
  if (std::ferror(file.get())) FT_FAIL("{}: read error while checksumming", path.string());
  return fmt::format("{:016x}", XXH3_64bits_digest(state.get()));
}

}  // namespace ft::datasets
