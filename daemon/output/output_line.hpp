// One line of a child's captured output, and the forms it is written in: a
// line of a log file, a line of otpd's own log, and a JSON object for
// `--log-format json` and the control socket. Child bytes are arbitrary:
// files keep them as they are, JSON replaces invalid UTF-8.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace otpd::output {

enum class Stream : std::uint8_t { out, err };

// "out" / "err" in files and human output; "stdout" / "stderr" in JSON.
std::string_view short_name(Stream stream);
std::string_view json_name(Stream stream);

struct OutputLine {
  std::int64_t time_us = 0;  // when read, CLOCK_REALTIME in microseconds
  int pid = 0;               // the incarnation that wrote it
  Stream stream = Stream::out;
  // The line did not end here: it was cut at the longest line length, or
  // flushed after the child stayed silent in mid-line. The next piece of
  // the same stream carries on with it.
  bool continued = false;
  std::string text;  // without the newline; a '\r' before it is kept
};

// Now, from CLOCK_REALTIME.
std::int64_t realtime_us();
// "2026-11-24T15:17:22.123Z"
void append_rfc3339(std::string& out, std::int64_t time_us);

// "2026-11-24T15:17:22.123Z out hello\n"; a continued piece says "out+".
void append_file_line(std::string& out, const OutputLine& line);
// "2026-11-24T15:17:22.123Z app/web[42] out: hello" in otpd's own log;
// a continued piece says "out+:". No newline.
void append_log_line(std::string& out, std::string_view path, const OutputLine& line);
// {"time":...,"path":...,"pid":...,"stream":"stdout","line":...} plus
// "continued":true for a continued piece; no newline.
void append_line_json(std::string& out, std::string_view path, const OutputLine& line);

}  // namespace otpd::output
