// When a cron expression is next due: the calendar's edges, Vixie cron's
// day rule, daylight saving changes in Europe/Berlin (CET/CEST), and a plan
// that follows the wall clock forward and back.
#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>
#include <initializer_list>
#include <string>

#include "config/cron_next_run.hpp"

using namespace otpd::config;

namespace {

// Sets TZ for the test and restores it after.
class TimeZone {
 public:
  explicit TimeZone(const char* zone) {
    if (const char* old = std::getenv("TZ")) saved_ = old;
    setenv("TZ", zone, 1);
    tzset();
  }
  ~TimeZone() {
    if (saved_.empty()) {
      unsetenv("TZ");
    } else {
      setenv("TZ", saved_.c_str(), 1);
    }
    tzset();
  }
  TimeZone(const TimeZone&) = delete;
  TimeZone& operator=(const TimeZone&) = delete;

 private:
  std::string saved_;
};

// "2026-03-29 01:00:00" in UTC.
std::time_t utc(const std::string& text) {
  std::tm tm{};
  REQUIRE(strptime(text.c_str(), "%Y-%m-%d %H:%M:%S", &tm) != nullptr);
  return timegm(&tm);
}

std::string utc_text(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
  return text;
}

// The next run after `after` (UTC), as UTC text.
std::string next(const std::string& expression, const std::string& after) {
  const auto t = next_cron_run(parse_cron_expression(expression), utc(after));
  return t ? utc_text(*t) : "never";
}

// One reading of the wall clock (UTC text) and what the plan makes of it:
// "run" or "wait", then the next run: "run, next 2026-11-24 10:10:00".
struct Reading {
  const char* clock;
  const char* outcome;
};

// A plan of `expression` started at `start`, checked against `readings` in
// turn as the cron worker checks it against real ones.
void follow(const std::string& expression, const std::string& start,
            std::initializer_list<Reading> readings) {
  const CronExpression e = parse_cron_expression(expression);
  CronPlan plan = start_cron_plan(e, utc(start));
  for (const Reading& reading : readings) {
    const CronCheck check = check_cron_plan(e, plan, utc(reading.clock));
    plan = check.plan;
    const std::string next = plan.next ? utc_text(*plan.next) : "never";
    CAPTURE(reading.clock);
    CHECK(std::string(check.due ? "run" : "wait") + ", next " + next == reading.outcome);
  }
}

}  // namespace

TEST_SUITE("cron plan and the wall clock") {
  TEST_CASE("a clock that goes on: each time runs once, when it comes") {
    const TimeZone zone("UTC");
    follow("*/5 * * * *", "2026-11-24 10:02:30",
           {{"2026-11-24 10:04:59", "wait, next 2026-11-24 10:05:00"},
            {"2026-11-24 10:05:00", "run, next 2026-11-24 10:10:00"},
            {"2026-11-24 10:05:30", "wait, next 2026-11-24 10:10:00"}});
  }

  TEST_CASE("a clock that jumps forward: one run, the missed ones are not made up") {
    const TimeZone zone("UTC");
    follow("@hourly", "2026-11-24 09:30:00",
           {{"2026-11-24 13:20:00", "run, next 2026-11-24 14:00:00"},
            {"2026-11-24 13:20:30", "wait, next 2026-11-24 14:00:00"}});
  }

  TEST_CASE("a clock a year ahead, then set right: the next run is by the true date") {
    const TimeZone zone("UTC");
    follow("0 3 * * *", "2027-11-24 10:00:00",
           {{"2027-11-24 10:00:30", "wait, next 2027-11-25 03:00:00"},
            {"2026-11-24 10:01:00", "wait, next 2026-11-25 03:00:00"},
            {"2026-11-25 03:00:00", "run, next 2026-11-26 03:00:00"}});
  }

  TEST_CASE("a clock set back far after a run: the plan starts afresh from the new time") {
    const TimeZone zone("UTC");
    // It ran at 03:00 by a clock a year ahead; that run does not hold the job.
    follow("0 3 * * *", "2027-11-24 02:59:30",
           {{"2027-11-24 03:00:00", "run, next 2027-11-25 03:00:00"},
            {"2026-11-24 02:00:00", "wait, next 2026-11-24 03:00:00"}});
    // Beyond the limit (3 hours) even times already run come again.
    follow("@hourly", "2026-11-24 12:59:30",
           {{"2026-11-24 13:00:00", "run, next 2026-11-24 14:00:00"},
            {"2026-11-24 09:30:00", "wait, next 2026-11-24 10:00:00"},
            {"2026-11-24 10:00:00", "run, next 2026-11-24 11:00:00"}});
  }

  TEST_CASE("a clock set back a little after a run: that time does not run twice") {
    const TimeZone zone("UTC");
    follow("*/5 * * * *", "2026-11-24 10:04:30",
           {{"2026-11-24 10:05:00", "run, next 2026-11-24 10:10:00"},
            {"2026-11-24 10:04:59", "wait, next 2026-11-24 10:10:00"},
            {"2026-11-24 10:05:00", "wait, next 2026-11-24 10:10:00"},
            {"2026-11-24 10:10:00", "run, next 2026-11-24 10:15:00"}});
  }

  TEST_CASE("a clock set back within the limit waits until it is past the last run again") {
    const TimeZone zone("UTC");
    follow("@hourly", "2026-11-24 08:59:30",
           {{"2026-11-24 09:00:00", "run, next 2026-11-24 10:00:00"},
            {"2026-11-24 09:30:00", "wait, next 2026-11-24 10:00:00"},
            {"2026-11-24 06:01:00", "wait, next 2026-11-24 10:00:00"},  // back 2h59m
            {"2026-11-24 09:00:00", "wait, next 2026-11-24 10:00:00"},
            {"2026-11-24 10:00:00", "run, next 2026-11-24 11:00:00"}});
  }

  TEST_CASE("a clock set back before the first run: the times it has not run come due") {
    const TimeZone zone("UTC");
    follow("@hourly", "2026-11-24 09:30:00",
           {{"2026-11-24 08:30:00", "wait, next 2026-11-24 09:00:00"},
            {"2026-11-24 09:00:00", "run, next 2026-11-24 10:00:00"}});
  }

  // 2026-10-25: at 03:00 CEST (01:00 UTC) clocks go back to 02:00 CET.
  TEST_CASE("a daylight saving change is not a clock set back: the rules above apply") {
    const TimeZone zone("Europe/Berlin");
    follow("30 2 * * *", "2026-10-25 00:00:00",
           {{"2026-10-25 00:30:00", "run, next 2026-10-26 01:30:00"},
            {"2026-10-25 01:30:00", "wait, next 2026-10-26 01:30:00"}});
    follow("30 * * * *", "2026-10-25 00:00:00",
           {{"2026-10-25 00:30:00", "run, next 2026-10-25 01:30:00"},
            {"2026-10-25 01:30:00", "run, next 2026-10-25 02:30:00"}});
  }
}

TEST_SUITE("cron next run") {
  TEST_CASE("minutes, steps and the exact boundary") {
    const TimeZone zone("UTC");
    CHECK(next("*/5 * * * *", "2026-11-24 10:02:30") == "2026-11-24 10:05:00");
    // Strictly after: a run due now is not due again.
    CHECK(next("*/5 * * * *", "2026-11-24 10:05:00") == "2026-11-24 10:10:00");
    CHECK(next("* * * * *", "2026-11-24 10:05:59") == "2026-11-24 10:06:00");
    CHECK(next("10-30/10 * * * *", "2026-11-24 10:31:00") == "2026-11-24 11:10:00");
    CHECK(next("0 9-17/4 * * *", "2026-11-24 13:00:00") == "2026-11-24 17:00:00");
    CHECK(next("0 9-17/4 * * *", "2026-11-24 17:00:00") == "2026-11-25 09:00:00");
  }

  TEST_CASE("the end of a day, a month and a year") {
    const TimeZone zone("UTC");
    CHECK(next("0 0 * * *", "2026-11-30 23:59:59") == "2026-12-01 00:00:00");
    CHECK(next("0 0 1 1 *", "2026-12-31 23:59:00") == "2027-01-01 00:00:00");
    CHECK(next("@yearly", "2027-01-01 00:00:00") == "2028-01-01 00:00:00");
    CHECK(next("@monthly", "2026-01-31 12:00:00") == "2026-02-01 00:00:00");
  }

  TEST_CASE("Feb 29 comes in leap years only; 2100 is not one") {
    const TimeZone zone("UTC");
    CHECK(next("0 0 29 2 *", "2026-03-01 00:00:00") == "2028-02-29 00:00:00");
    CHECK(next("0 0 29 feb *", "2096-03-01 00:00:00") == "2104-02-29 00:00:00");
    CHECK(next("0 0 * 2 *", "2028-02-28 12:00:00") == "2028-02-29 00:00:00");
    CHECK(next("0 0 * 2 *", "2027-02-28 12:00:00") == "2028-02-01 00:00:00");
  }

  TEST_CASE("the 31st skips the months that have no 31st") {
    const TimeZone zone("UTC");
    CHECK(next("0 0 31 * *", "2026-04-01 00:00:00") == "2026-05-31 00:00:00");
    CHECK(next("0 0 31 * *", "2026-05-31 00:00:00") == "2026-07-31 00:00:00");
    CHECK(next("0 12 30 * *", "2026-01-31 00:00:00") == "2026-03-30 12:00:00");
  }

  TEST_CASE("both day fields restricted: either matches; one a star: both must") {
    const TimeZone zone("UTC");
    // 2026-11-01 is a Sunday; the 6th and the 13th are Fridays.
    CHECK(next("0 0 13 * fri", "2026-11-01 00:00:00") == "2026-11-06 00:00:00");
    CHECK(next("0 0 13 * fri", "2026-11-06 00:00:00") == "2026-11-13 00:00:00");
    CHECK(next("0 0 12 * 5", "2026-11-06 00:00:00") == "2026-11-12 00:00:00");
    CHECK(next("0 0 13 * *", "2026-11-01 00:00:00") == "2026-11-13 00:00:00");
    CHECK(next("0 0 * * fri", "2026-11-07 00:00:00") == "2026-11-13 00:00:00");
    // `*/2` starts with a star: odd days that are also Fridays.
    CHECK(next("0 0 */2 * fri", "2026-11-01 00:00:00") == "2026-11-13 00:00:00");
    CHECK(next("0 0 * * 7", "2026-11-01 00:00:00") == "2026-11-08 00:00:00");
  }

  TEST_CASE(
      "the local time zone decides: 09:00 in Berlin is 08:00 UTC in winter, 07:00 in summer") {
    const TimeZone zone("Europe/Berlin");
    CHECK(next("0 9 * * *", "2026-01-10 12:00:00") == "2026-01-11 08:00:00");
    CHECK(next("0 9 * * *", "2026-07-10 12:00:00") == "2026-07-11 07:00:00");
  }

  // 2026-03-29: at 02:00 CET (01:00 UTC) clocks go to 03:00 CEST.
  TEST_CASE("spring forward: a fixed time in the skipped hour runs once, when the gap ends") {
    const TimeZone zone("Europe/Berlin");
    CHECK(next("30 2 * * *", "2026-03-28 23:00:00") == "2026-03-29 01:00:00");
    CHECK(next("30 2 * * *", "2026-03-29 01:00:00") == "2026-03-30 00:30:00");
    // All of the skipped hour's times share that one run.
    CHECK(next("*/15 2 * * *", "2026-03-29 00:50:00") == "2026-03-29 01:00:00");
    CHECK(next("*/15 2 * * *", "2026-03-29 01:00:00") == "2026-03-30 00:00:00");
    // A time after the gap is not moved.
    CHECK(next("0 3 * * *", "2026-03-29 00:50:00") == "2026-03-29 01:00:00");
    CHECK(next("0 3 * * *", "2026-03-29 01:00:00") == "2026-03-30 01:00:00");
  }

  TEST_CASE("spring forward: a schedule with hour * has nothing to run in the skipped hour") {
    const TimeZone zone("Europe/Berlin");
    // 01:40 CET, then 03:30 CEST: one hour later, as every other hour.
    CHECK(next("30 * * * *", "2026-03-29 00:40:00") == "2026-03-29 01:30:00");
    CHECK(next("*/20 * * * *", "2026-03-29 00:50:00") == "2026-03-29 01:00:00");
  }

  // 2026-10-25: at 03:00 CEST (01:00 UTC) clocks go back to 02:00 CET, so
  // 02:00-02:59 comes twice: 00:00-00:59 UTC, then 01:00-01:59 UTC.
  TEST_CASE("fall back: a fixed time in the repeated hour runs at its first occurrence only") {
    const TimeZone zone("Europe/Berlin");
    CHECK(next("30 2 * * *", "2026-10-24 22:00:00") == "2026-10-25 00:30:00");
    CHECK(next("30 2 * * *", "2026-10-25 00:30:00") == "2026-10-26 01:30:00");
    CHECK(next("30 2 * * *", "2026-10-25 00:59:30") == "2026-10-26 01:30:00");
    CHECK(next("0 3 * * *", "2026-10-25 00:30:00") == "2026-10-25 02:00:00");
  }

  TEST_CASE("fall back: a schedule with hour * runs in both passes of the repeated hour") {
    const TimeZone zone("Europe/Berlin");
    CHECK(next("30 * * * *", "2026-10-25 00:00:00") == "2026-10-25 00:30:00");
    CHECK(next("30 * * * *", "2026-10-25 00:30:00") == "2026-10-25 01:30:00");
    CHECK(next("30 * * * *", "2026-10-25 01:30:00") == "2026-10-25 02:30:00");
    CHECK(next("*/20 * * * *", "2026-10-25 00:50:00") == "2026-10-25 01:00:00");
    CHECK(next("@hourly", "2026-10-25 00:00:00") == "2026-10-25 01:00:00");
  }

  TEST_CASE("a schedule that comes round only every few years is still found") {
    const TimeZone zone("UTC");
    // Feb 29 on a Sunday, with the day of week a star-step (both must match).
    CHECK(next("0 0 29 2 */7", "2026-01-01 00:00:00") == "2032-02-29 00:00:00");
  }
}
