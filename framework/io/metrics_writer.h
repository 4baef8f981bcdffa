// metrics.jsonl of a run: one JSON object per line, flushed line by line so a
// crash loses at most the line being written and `tail -f` sees progress.
#pragma once
#include <nlohmann/json.hpp>

#include <string>

#include "framework/io/output_file.h"

namespace ft::io {

class MetricsWriter {
 public:
  // append=false starts the file afresh (truncates); append=true keeps the lines
  // of an earlier run of the same run directory (resume).
  MetricsWriter(const std::string& path, bool append);

  // record must be a JSON object. NaN and infinities become null (JSON has neither).
  void write(const nlohmann::json& record);
  const std::string& path() const { return file_.path(); }

 private:
  OutputFile file_;
};

}  // namespace ft::io
