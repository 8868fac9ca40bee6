// otpd's own log on stderr: one line per tree event or daemon message,
// human-readable by default or one JSON object per line for log shippers.
#pragma once

#include <string>
#include <string_view>

#include "supervise/event.hpp"

namespace otpd::log {

enum class Format { human, json };

class EventLog final : public supervise::EventSink {
 public:
  // Under systemd, when `fd` is the journal stream named by JOURNAL_STREAM,
  // each line starts with its syslog priority ("<4>") for the journal.
  explicit EventLog(Format format, int fd = 2);

  void emit(const supervise::Event& event) override;
  // Logs `event` as having happened at `time` (see utc_timestamp()).
  void emit(const supervise::Event& event, std::string_view time);
  void info(std::string_view message) { write_message("info", message); }
  void warning(std::string_view message) { write_message("warning", message); }
  void error(std::string_view message) { write_message("error", message); }

  // Lines that others wrote for this log in its format(), passed on in one
  // write; each ends with '\n'. A child's captured output comes this way
  // (output/output_line.hpp); in the journal each line is "info".
  void pass_on(std::string_view lines);
  Format format() const { return format_; }

  // The line emit() writes, without the trailing newline.
  std::string format(const supervise::Event& event, std::string_view time) const;

 private:
  void write_message(std::string_view level, std::string_view message);
  void write_line(int priority, std::string line);
  void write_all(std::string_view text);

  Format format_;
  int fd_;
  bool journal_;
};

// "2026-11-24T12:34:56.789Z", the current wall-clock time in UTC.
std::string utc_timestamp();

}  // namespace otpd::log
