#include "framework/io/metrics_writer.h"

#include <filesystem>
#include <sstream>

#include "framework/core/check.h"
#include "framework/io/durable_file.h"

namespace ft::io {

void drop_records_after(const std::string& path, int64_t step) {
  if (!std::filesystem::exists(path)) return;
  std::istringstream in(read_text_file(path));
  std::string kept, line;
  while (std::getline(in, line)) {
    nlohmann::json record = nlohmann::json::parse(line, nullptr, false);
    // Lines that do not parse (a torn last line) or carry no step go with the tail.
    if (record.is_discarded() || !record.contains("step") || !record["step"].is_number_integer()) continue;
    if (record["step"].get<int64_t>() <= step) kept += line + "\n";
  }
  write_file_atomically(path, kept);
}

MetricsWriter::MetricsWriter(const std::string& path, bool append)
    : file_(path, append ? OutputFile::Mode::append : OutputFile::Mode::truncate) {}

void MetricsWriter::write(const nlohmann::json& record) {
  FT_CHECK(record.is_object(), "metrics record for {} must be a JSON object, got {}", path(),
           record.type_name());
  // Invalid UTF-8 (e.g. in a tag) is replaced rather than thrown: one bad string
  // must not end a training run.
  std::string line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line.push_back('\n');
  file_.write(line);
  file_.flush();
}

}  // namespace ft::io
