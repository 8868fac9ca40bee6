#include "cli/duration_text.hpp"

#include <array>
#include <cstdio>

namespace otpd::ctl {
namespace {

struct Unit {
  std::string_view name;
  std::int64_t ms;
};

// Largest first: the order in which units may follow each other.
constexpr std::array<Unit, 4> kUnits{{{"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1}}};

// Beyond any sensible timeout, and far enough from overflow that sums are safe.
constexpr std::int64_t kLongest = std::int64_t{1} << 52;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::optional<Ms> parse_duration(std::string_view text, std::string& error) {
  const std::string quoted = "'" + std::string(text) + "'";
  if (text.empty()) {
    error = "a duration cannot be empty: write e.g. 10s or 500ms";
    return std::nullopt;
  }
  std::int64_t total = 0;
  std::size_t next_unit = 0;  // units must come largest first, each once
  std::string_view rest = text;
  while (!rest.empty()) {
    std::size_t digits = 0;
    while (digits < rest.size() && is_digit(rest[digits])) ++digits;
    std::string_view whole = rest.substr(0, digits);
    std::string_view fraction;
    std::size_t at = digits;
    if (at < rest.size() && rest[at] == '.') {
      std::size_t end = at + 1;
      while (end < rest.size() && is_digit(rest[end])) ++end;
      fraction = rest.substr(at + 1, end - at - 1);
      at = end;
    }
    if (whole.empty() && fraction.empty()) {
      error = "invalid duration " + quoted + ": write e.g. 10s, 500ms or 1m30s";
      return std::nullopt;
    }
    std::size_t unit_end = at;
    while (unit_end < rest.size() && !is_digit(rest[unit_end]) && rest[unit_end] != '.') {
      ++unit_end;
    }
    const std::string_view unit_name = rest.substr(at, unit_end - at);
    if (unit_name.empty()) {
      error = "invalid duration " + quoted + ": a number needs a unit (ms, s, m or h), e.g. 10s";
      return std::nullopt;
    }
    std::size_t u = next_unit;
    while (u < kUnits.size() && kUnits[u].name != unit_name) ++u;
    if (u == kUnits.size()) {
      error = "invalid duration " + quoted + ": unknown or out-of-order unit '" +
              std::string(unit_name) + "' (use ms, s, m or h, largest first)";
      return std::nullopt;
    }
    if (whole.size() > 15 || fraction.size() > 9) {
      error = "invalid duration " + quoted + ": too long";
      return std::nullopt;
    }
    // Fixed point with nine decimals, so that "1.5s" is exact.
    std::int64_t scaled = 0;
    for (char c : whole) scaled = scaled * 10 + (c - '0');
    std::int64_t fraction_value = 0;
    for (std::size_t i = 0; i < 9; ++i) {
      fraction_value = fraction_value * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
    }
    const std::int64_t unit_ms = kUnits[u].ms;
    const __int128 nanos_of_unit = static_cast<__int128>(fraction_value) * unit_ms;
    if (nanos_of_unit % 1'000'000'000 != 0) {
      error = "invalid duration " + quoted + ": not a whole number of milliseconds";
      return std::nullopt;
    }
    total += scaled * unit_ms + static_cast<std::int64_t>(nanos_of_unit / 1'000'000'000);
    if (total > kLongest) {
      error = "invalid duration " + quoted + ": too long";
      return std::nullopt;
    }
    next_unit = u + 1;
    rest.remove_prefix(unit_end);
  }
  return Ms{total};
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
  if (ms <= 0) return "0s";
  std::string text;
  for (const Unit& unit : kUnits) {
    if (ms < unit.ms) continue;
    text += std::to_string(ms / unit.ms);
    text += unit.name;
    ms %= unit.ms;
  }
  return text;
}

}  // namespace otpd::ctl
