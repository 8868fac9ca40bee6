// When a cron expression is next due, in otpd's local time zone (the TZ
// environment variable, else /etc/localtime).
//
//   std::optional<std::time_t> next = next_cron_run(expression, std::time(nullptr));
//
// Daylight saving changes (docs/workers.md#cron):
// - A schedule with fixed hours (the hour field does not start with `*`)
//   runs each matching local time once a day. A time that a spring-forward
//   change skips runs once, at the first instant after the gap (all of a
//   skipped hour's times share that one run); a time that a fall-back change
//   repeats runs at its first occurrence only.
// - A schedule whose hour field starts with `*` follows the clock's minutes
//   as they come: in a repeated hour it runs in both passes, and a skipped
//   hour has no minutes to run in.
#pragma once

#include <ctime>
#include <optional>

#include "config/cron_expression.hpp"

namespace otpd::config {

// The first instant strictly after `after` at which `expression` is due;
// nothing when none comes within the next fifty years.
std::optional<std::time_t> next_cron_run(const CronExpression& expression, std::time_t after);

}  // namespace otpd::config
