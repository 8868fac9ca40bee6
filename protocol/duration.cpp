#include "protocol/duration.hpp"

#include <array>
#include <cctype>
#include <cstdint>
#include <variant>

namespace otpd::protocol {
namespace {

using Duration = std::chrono::milliseconds;

struct Unit {
  std::string_view name;
  std::int64_t ms;
};

// Largest first: the order compound durations must follow.
constexpr std::array<Unit, 4> kUnits{{{"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1}}};
constexpr const Unit& kSeconds = kUnits[2];

// Spellings people reach for from other tools, mapped to the unit we use.
struct Alias {
  std::string_view written;
  std::string_view meant;
};
constexpr std::array<Alias, 16> kAliases{{{"msec", "ms"},
                                          {"msecs", "ms"},
                                          {"millis", "ms"},
                                          {"milliseconds", "ms"},
                                          {"sec", "s"},
                                          {"secs", "s"},
                                          {"second", "s"},
                                          {"seconds", "s"},
                                          {"min", "m"},
                                          {"mins", "m"},
                                          {"minute", "m"},
                                          {"minutes", "m"},
                                          {"hr", "h"},
                                          {"hrs", "h"},
                                          {"hour", "h"},
                                          {"hours", "h"}}};

// Far beyond any sensible timeout, and small enough that a deadline of
// now + this (or the sum of two) still fits std::chrono's nanoseconds,
// which end at about 292 years.
constexpr std::int64_t kMaxHours = 876'000;  // about 100 years
constexpr std::int64_t kMaxMs = kMaxHours * 3'600'000;
const std::string kTooLarge = "too large: at most " + std::to_string(kMaxHours) + "h (100 years)";

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_letter(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0;
}

std::string unknown_unit_advice(std::string_view unit) {
  for (const Alias& alias : kAliases) {
    if (alias.written == unit) {
      return "unknown unit '" + std::string(unit) + "': write '" + std::string(alias.meant) +
             "' instead";
    }
  }
  if (unit == "d" || unit == "day" || unit == "days") {
    return "days are not a unit: write hours, e.g. 24h";
  }
  if (unit == "us" || unit == "ns" || unit == "µs") {
    return "durations are whole milliseconds: the smallest unit is ms";
  }
  return "unknown unit '" + std::string(unit) + "': use ms, s, m or h";
}

// Milliseconds for `whole`.`fraction` of `unit`, or an error if that is not a
// whole number of milliseconds or is too large.
std::variant<std::int64_t, std::string> to_ms(std::string_view whole, std::string_view fraction,
                                              const Unit& unit) {
  const std::string written = std::string(whole) + (fraction.empty() ? "" : ".") +
                              std::string(fraction) + std::string(unit.name);
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  while (!whole.empty() && whole.front() == '0') whole.remove_prefix(1);
  if (whole.size() > 16) return kTooLarge;
  // 9 decimals of an hour is already far below a millisecond.
  const std::string not_whole = "'" + written + "' is not a whole number of milliseconds";
  if (fraction.size() > 9) return not_whole;

  std::int64_t ms = 0;
  for (char c : whole) ms = ms * 10 + (c - '0');
  if (ms > kMaxMs / unit.ms) return kTooLarge;
  ms *= unit.ms;
  std::int64_t scaled_fraction = 0;
  std::int64_t scale = 1;
  for (char c : fraction) {
    scaled_fraction = scaled_fraction * 10 + (c - '0');
    scale *= 10;
  }
  if ((scaled_fraction * unit.ms) % scale != 0) return not_whole;
  return ms + scaled_fraction * unit.ms / scale;
}

std::string bare_number_advice(std::string_view whole, std::string_view fraction,
                               std::string_view number) {
  std::string advice = "a bare number needs a unit: write " + std::string(number) + "s";
  auto as_ms = to_ms(whole, fraction, kSeconds);
  if (auto* ms = std::get_if<std::int64_t>(&as_ms)) {
    advice += " or " + std::to_string(*ms) + "ms";
  }
  return advice;
}

std::variant<Duration, std::string> parse(std::string_view text) {
  if (text.empty()) return std::string("a duration cannot be empty: write e.g. 5s");
  if (text.front() == '-') return std::string("a duration cannot be negative");
  if (text.front() == '+') return std::string("write the duration without a sign, e.g. 5s");
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      return std::string("remove the spaces: write e.g. 5s or 1m30s");
    }
  }

  std::int64_t total = 0;
  std::size_t next_unit = 0;  // index into kUnits of the largest unit still allowed
  std::size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    const std::size_t whole_start = pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    std::string_view whole = text.substr(whole_start, pos - whole_start);
    std::string_view fraction;
    if (pos < text.size() && text[pos] == '.') {
      const std::size_t fraction_start = ++pos;
      while (pos < text.size() && is_digit(text[pos])) ++pos;
      fraction = text.substr(fraction_start, pos - fraction_start);
    }
    if (whole.empty() && fraction.empty()) {
      if (pos < text.size() && !is_letter(text[pos]) && text[pos] != '.') {
        return "unexpected '" + std::string(1, text[pos]) + "': write e.g. 5s or 1m30s";
      }
      return std::string("expected a number followed by a unit, as in 5s or 1m30s");
    }
    const std::string_view number = text.substr(whole_start, pos - whole_start);

    const std::size_t unit_start = pos;
    while (pos < text.size() && is_letter(text[pos])) ++pos;
    const std::string_view unit_name = text.substr(unit_start, pos - unit_start);
    if (unit_name.empty()) {
      if (pos < text.size()) {
        return "unexpected '" + std::string(1, text[pos]) + "': write e.g. 5s or 1m30s";
      }
      if (first) return bare_number_advice(whole, fraction, number);
      return "every number needs a unit: '" + std::string(number) + "' at the end has none";
    }

    std::size_t unit_index = kUnits.size();
    for (std::size_t i = 0; i < kUnits.size(); ++i) {
      if (kUnits[i].name == unit_name) unit_index = i;
    }
    if (unit_index == kUnits.size()) return unknown_unit_advice(unit_name);
    if (unit_index < next_unit) {
      return std::string(
          "units must go from largest to smallest, each at most once, as in 1h30m or 1m30s");
    }
    next_unit = unit_index + 1;

    auto part = to_ms(whole, fraction, kUnits[unit_index]);
    if (auto* error = std::get_if<std::string>(&part)) return *error;
    total += std::get<std::int64_t>(part);
    if (total > kMaxMs) return kTooLarge;
    first = false;
  }
  return Duration{total};
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  auto result = parse(text);
  if (auto* duration = std::get_if<Duration>(&result)) return *duration;
  return std::nullopt;
}

std::string duration_error(std::string_view text) {
  auto result = parse(text);
  if (auto* error = std::get_if<std::string>(&result)) return *error;
  return {};
}

std::string format_duration(std::chrono::milliseconds duration) {
  std::int64_t ms = duration.count();
  if (ms == 0) return "0s";
  std::string text;
  if (ms < 0) {
    text = "-";
    ms = -ms;
  }
  for (const Unit& unit : kUnits) {
    if (ms >= unit.ms) {
      text += std::to_string(ms / unit.ms);
      text += unit.name;
      ms %= unit.ms;
    }
  }
  return text;
}

}  // namespace otpd::protocol
