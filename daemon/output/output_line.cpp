#include "output/output_line.hpp"

#include <time.h>

#include <cstdio>
#include <nlohmann/json.hpp>

namespace otpd::output {

std::string_view short_name(Stream stream) {
  return stream == Stream::out ? "out" : "err";
}

std::string_view json_name(Stream stream) {
  return stream == Stream::out ? "stdout" : "stderr";
}

std::int64_t realtime_us() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

void append_rfc3339(std::string& out, std::int64_t time_us) {
  // A chatty child writes many lines per second: the date part is formatted
  // once per second (per thread), the milliseconds every time.
  thread_local std::int64_t cached_second = -1;
  thread_local char cached[64];  // "2026-11-24T15:17:22."
  std::int64_t second = time_us / 1'000'000;
  std::int64_t micros = time_us % 1'000'000;
  if (micros < 0) {
    micros += 1'000'000;
    --second;
  }
  if (second != cached_second) {
    const auto seconds = static_cast<time_t>(second);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    std::snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_second = second;
  }
  out.append(cached, 20);
  std::int64_t millis = micros / 1000;
  char digits[3];
  for (int i = 2; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + millis % 10);
    millis /= 10;
  }
  out.append(digits, 3);
  out += 'Z';
}

void append_file_line(std::string& out, const OutputLine& line) {
  append_rfc3339(out, line.time_us);
  out += ' ';
  out += short_name(line.stream);
  if (line.continued) out += '+';
  out += ' ';
  out += line.text;
  out += '\n';
}

void append_log_line(std::string& out, std::string_view path, const OutputLine& line) {
  append_rfc3339(out, line.time_us);
  out += ' ';
  out += path;
  out += '[';
  out += std::to_string(line.pid);
  out += "] ";
  out += short_name(line.stream);
  out += line.continued ? "+: " : ": ";
  out += line.text;
}

void append_line_json(std::string& out, std::string_view path, const OutputLine& line) {
  std::string time;
  append_rfc3339(time, line.time_us);
  nlohmann::ordered_json j;
  j["time"] = std::move(time);
  j["path"] = path;
  j["pid"] = line.pid;
  j["stream"] = json_name(line.stream);
  j["line"] = line.text;
  if (line.continued) j["continued"] = true;
  // A child may write anything: invalid UTF-8 becomes U+FFFD rather than
  // an exception.
  out += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace otpd::output
