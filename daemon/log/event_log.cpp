#include "log/event_log.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "config/signals.hpp"
#include "log/event_json.hpp"

namespace otpd::log {

std::string utc_timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  return buffer;
}

std::string EventLog::format(const supervise::Event& e, std::string_view time) const {
  if (format_ == Format::json) return event_json(e, time);
  std::string line(time);
  line += ' ';
  line += to_string(e.kind);
  line.append(line.size() < time.size() + 20 ? time.size() + 20 - line.size() : 1, ' ');
  line += e.path;
  if (e.pid != 0) line += " pid=" + std::to_string(e.pid);
  if (e.delay) line += " in " + config::format_duration(*e.delay);
  if (!e.reason.empty()) line += ": " + e.reason;
  return line;
}

namespace {

// syslog priorities, as the journal reads them from a "<N>" prefix.
constexpr int priority_error = 3;
constexpr int priority_warning = 4;
constexpr int priority_info = 6;

// JOURNAL_STREAM is "DEVICE:INODE" of the stream systemd connected; it
// counts only while `fd` is still that stream (not redirected since).
bool is_journal_stream(int fd) {
  const char* stream = std::getenv("JOURNAL_STREAM");
  struct stat st {};
  if (stream == nullptr || fstat(fd, &st) != 0) return false;
  unsigned long long device = 0;
  unsigned long long inode = 0;
  if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
  return device == st.st_dev && inode == st.st_ino;
}

int priority_of(const supervise::Event& event) {
  switch (event.kind) {
    case supervise::EventKind::start_failed:
    case supervise::EventKind::intensity_exceeded:
    case supervise::EventKind::escalated:
    case supervise::EventKind::run_failed:
      return priority_warning;
    case supervise::EventKind::exited:
      return event.status && *event.status == supervise::ExitStatus::exited(0) ? priority_info
                                                                               : priority_warning;
    default:
      return priority_info;
  }
}

}  // namespace

EventLog::EventLog(Format format, int fd)
    : format_(format), fd_(fd), journal_(is_journal_stream(fd)) {}

void EventLog::emit(const supervise::Event& event) {
  emit(event, utc_timestamp());
}

void EventLog::emit(const supervise::Event& event, std::string_view time) {
  write_line(priority_of(event), format(event, time));
}

void EventLog::write_message(std::string_view level, std::string_view message) {
  const int priority = level == "error"     ? priority_error
                       : level == "warning" ? priority_warning
                                            : priority_info;
  const std::string time = utc_timestamp();
  if (format_ == Format::json) {
    nlohmann::ordered_json j;
    j["time"] = time;
    j["level"] = level;
    j["message"] = message;
    write_line(priority, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  // One log line per line of the message (all the errors of a config
  // file), each with the time and the level.
  for (;;) {
    const std::size_t end = message.find('\n');
    std::string line = time + " otpd: ";
    if (level != "info") line += std::string(level) + ": ";
    line += message.substr(0, end);
    write_line(priority, std::move(line));
    if (end == std::string_view::npos || end + 1 == message.size()) break;
    message.remove_prefix(end + 1);
  }
}

void EventLog::pass_on(std::string_view lines) {
  if (!journal_) {
    write_all(lines);
    return;
  }
  std::string prefixed;
  prefixed.reserve(lines.size() + lines.size() / 16);
  for (std::size_t at = 0; at < lines.size();) {
    const std::size_t end = lines.find('\n', at);
    const std::size_t next = end == std::string_view::npos ? lines.size() : end + 1;
    prefixed += "<6>";
    prefixed += lines.substr(at, next - at);
    at = next;
  }
  write_all(prefixed);
}

// One write(2) per line: lines from otpd never interleave with each other,
// and nothing sits in a stdio buffer that a spawned child could inherit.
void EventLog::write_line(int priority, std::string line) {
  if (journal_) line.insert(0, "<" + std::to_string(priority) + ">");
  line += '\n';
  write_all(line);
}

void EventLog::write_all(std::string_view text) {
  std::string_view rest = text;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd_, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a closed stderr must not stop the supervisor
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace otpd::log
