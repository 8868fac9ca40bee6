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
//
// A worker that runs a schedule keeps a CronPlan and checks it against the
// wall clock, which can be set back as well as forward:
//
//   CronPlan plan = start_cron_plan(expression, std::time(nullptr));
//   ...  // later: when plan.next comes, and every so often however far it is
//   const CronCheck check = check_cron_plan(expression, plan, std::time(nullptr));
//   plan = check.plan;
//   if (check.due) run();
#pragma once

#include <ctime>
#include <optional>

#include "config/cron_expression.hpp"

namespace otpd::config {

// The first instant strictly after `after` at which `expression` is due;
// nothing when none comes within the next fifty years.
std::optional<std::time_t> next_cron_run(const CronExpression& expression, std::time_t after);

// Where a schedule stands, from one look at the wall clock to the next.
struct CronPlan {
  std::optional<std::time_t> next = {};      // the next run; nothing: none comes
  std::optional<std::time_t> last_run = {};  // when the last scheduled run came due
  std::time_t checked = 0;                   // the wall clock at the last look
};

// A clock set back by up to this much runs no time twice: runs wait until
// the clock is past the last scheduled run again. Set back further, the
// plan starts afresh from the new time (as Vixie cron does past 3 hours):
// a clock that was far ahead must not stall the schedule for as long.
inline constexpr std::time_t kCronSetBackLimit = 3 * 3600;

struct CronCheck {
  bool due = false;  // a scheduled run is due now
  CronPlan plan = {};
};

// The plan of a schedule that starts at `now`: its first run strictly after.
CronPlan start_cron_plan(const CronExpression& expression, std::time_t now);

// A look at the wall clock, reading `now`. A run is due once the clock has
// reached plan.next; runs missed while it jumped forward are not made up.
// A clock earlier than at the last look was set back: the next run is
// planned again from `now` (or from the last run, up to kCronSetBackLimit).
CronCheck check_cron_plan(const CronExpression& expression, const CronPlan& plan, std::time_t now);

}  // namespace otpd::config
