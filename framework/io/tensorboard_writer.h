// TensorBoard event files written without TensorFlow or protobuf: TFRecord
// framing (length, masked CRC32C of the length, data, masked CRC32C of the data)
// around hand-encoded Event protos. Scalars, PNG images and the SessionLog START
// marker a resumed run needs. Not thread-safe: rank 0 owns one writer.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "framework/io/output_file.h"

namespace ft::io {

class TensorBoardWriter {
 public:
  // Creates run_dir/events.out.tfevents.<unix seconds>.<hostname> (run_dir too if
  // missing) and writes Event{file_version: "brain.Event:2"}. Never overwrites:
  // when a file of that name exists (a restart within the same second), a ".N"
  // suffix is added, which sorts after the earlier file as TensorBoard needs.
  explicit TensorBoardWriter(const std::string& run_dir);

  // Summary.Value.simple_value: stored as float32, as TensorBoard reads it.
  void add_scalar(const std::string& tag, double value, int64_t step);
  // Summary.Image around already encoded PNG bytes; channels 1..4 is the colorspace.
  void add_image(const std::string& tag, const std::vector<uint8_t>& png_bytes, int height,
                 int width, int channels, int64_t step);
  // SessionLog{status: START} at `step`: TensorBoard then drops the events at
  // steps >= `step` written before it (the crashed run's tail past the checkpoint).
  void add_session_start(int64_t step);

  // Events are buffered until flush (fflush + fsync) or destruction.
  void flush();
  const std::string& path() const { return file_.path(); }

 private:
  void write_event(const std::string& event);

  OutputFile file_;
};

}  // namespace ft::io
