#include "framework/io/metrics_writer.h"

#include "framework/core/check.h"

namespace ft::io {

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
