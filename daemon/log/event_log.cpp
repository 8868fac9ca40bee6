#include "log/event_log.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
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

void EventLog::emit(const supervise::Event& event) {
  emit(event, utc_timestamp());
}

void EventLog::emit(const supervise::Event& event, std::string_view time) {
  write_line(format(event, time));
}

void EventLog::write_message(std::string_view level, std::string_view message) {
  const std::string time = utc_timestamp();
  if (format_ == Format::json) {
    nlohmann::ordered_json j;
    j["time"] = time;
    j["level"] = level;
    j["message"] = message;
    write_line(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  std::string line = time + " otpd: ";
  if (level != "info") line += std::string(level) + ": ";
  line += message;
  write_line(std::move(line));
}

// One write(2) per line: lines from otpd never interleave with each other,
// and nothing sits in a stdio buffer that a spawned child could inherit.
void EventLog::write_line(std::string line) {
  line += '\n';
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd_, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a closed stderr must not stop the supervisor
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace otpd::log
