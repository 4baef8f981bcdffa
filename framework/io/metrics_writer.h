// metrics.jsonl of a run: one JSON object per line, flushed line by line so a
// crash loses at most the line being written and `tail -f` sees progress.
#pragma once
#include <nlohmann/json.hpp>

#include <string>

#include "framework/io/output_file.h"

namespace ft::io {

// On resume from a checkpoint at `step`: drops the records of steps after it (the
// crashed run's tail, which the resumed run writes again), like TensorBoard's
// SessionLog START does for event files. Rewrites the file atomically; a missing
// file is fine.
void drop_records_after(const std::string& path, int64_t step);

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
