// Cron expressions as Vixie cron reads them (docs/workers.md#cron): five
// fields — minute, hour, day of month, month, day of week — each `*`, a
// number, a range `A-B`, a step `*/N`, `A-B/N` or `A/N` (A to the field's
// end), or a comma-separated list of these; month and weekday names (`jan`,
// `mon`, any case); 7 is Sunday like 0; and the macros @yearly, @annually,
// @monthly, @weekly, @daily, @midnight and @hourly.
//
//   CronExpression daily = parse_cron_expression("30 4 * * mon-fri");
//
// When to run next is in config/cron_next_run.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace otpd::config {

struct CronExpression {
  std::uint64_t minutes = 0;  // bit m set: minute m (0-59) matches
  std::uint32_t hours = 0;    // bit h: hour h (0-23)
  std::uint32_t days = 0;     // bit d: day of month d (1-31)
  std::uint16_t months = 0;   // bit m: month m (1-12)
  std::uint8_t weekdays = 0;  // bit d: day of week d (0-6, 0 = Sunday)
  // Vixie cron's rule: when neither day field starts with `*`, a day matches
  // when either field does; otherwise both must.
  bool any_day_of_month = true;
  bool any_day_of_week = true;
  // The hour field starts with `*`: the schedule follows the clock's
  // minutes as they come, through a repeated or skipped hour of a daylight
  // saving change, rather than fixed times of day (cron_next_run.hpp).
  bool any_hour = true;
  std::string text = {};  // as written, for messages and status

  bool operator==(const CronExpression&) const = default;
};

// What is wrong with an expression, and where in its text.
class CronSyntaxError : public std::runtime_error {
 public:
  CronSyntaxError(std::size_t offset, const std::string& message)
      : std::runtime_error(message), offset_(offset) {}
  // Characters from the start of the text to the offending part.
  std::size_t offset() const { return offset_; }

 private:
  std::size_t offset_;
};

// Throws CronSyntaxError with messages such as
// "minute field: 61 is out of range 0-59". An expression that can never
// match (`0 0 30 feb *`) is an error too.
CronExpression parse_cron_expression(std::string_view text);

}  // namespace otpd::config
