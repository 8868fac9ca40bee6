#include "cli/duration_text.hpp"

#include <algorithm>
#include <cstdio>

#include "protocol/duration.hpp"

namespace otpd::ctl {

std::optional<Ms> parse_duration(std::string_view text, std::string& error) {
  if (auto parsed = protocol::parse_duration(text)) return *parsed;
  error = "invalid duration '" + std::string(text) + "': " + protocol::duration_error(text);
  return std::nullopt;
}

std::string format_uptime(std::int64_t ms) {
  if (ms < 0) ms = 0;
  const std::int64_t seconds = ms / 1000;
  char text[48];
  if (seconds < 60) {
    std::snprintf(text, sizeof text, "%llds", static_cast<long long>(seconds));
  } else if (seconds < 3600) {
    std::snprintf(text, sizeof text, "%lldm%02llds", static_cast<long long>(seconds / 60),
                  static_cast<long long>(seconds % 60));
  } else if (seconds < 86400) {
    std::snprintf(text, sizeof text, "%lldh%02lldm", static_cast<long long>(seconds / 3600),
                  static_cast<long long>(seconds % 3600 / 60));
  } else {
    std::snprintf(text, sizeof text, "%lldd", static_cast<long long>(seconds / 86400));
  }
  return text;
}

std::string format_exact(std::int64_t ms) {
  return protocol::format_duration(Ms{std::max<std::int64_t>(0, ms)});
}

}  // namespace otpd::ctl
