// Cron expressions: every form of field, the macros, and errors that say
// which field, why, and where.
#include <doctest/doctest.h>

#include <string>

#include "config/cron_expression.hpp"

using namespace otpd::config;

namespace {

std::uint64_t bits(std::initializer_list<int> values) {
  std::uint64_t out = 0;
  for (int v : values) out |= std::uint64_t{1} << v;
  return out;
}

std::uint64_t range(int low, int high, int step = 1) {
  std::uint64_t out = 0;
  for (int v = low; v <= high; v += step) out |= std::uint64_t{1} << v;
  return out;
}

struct ParseFailure {
  std::size_t offset = 0;
  std::string message;
};

ParseFailure failure_of(const std::string& text) {
  try {
    parse_cron_expression(text);
  } catch (const CronSyntaxError& e) {
    return {e.offset(), e.what()};
  }
  return {0, "(parsed without error)"};
}

}  // namespace

TEST_SUITE("cron expression") {
  TEST_CASE("stars match every value; day of week * is Sunday to Saturday") {
    const CronExpression e = parse_cron_expression("* * * * *");
    CHECK(e.minutes == range(0, 59));
    CHECK(e.hours == range(0, 23));
    CHECK(e.days == range(1, 31));
    CHECK(e.months == range(1, 12));
    CHECK(e.weekdays == range(0, 6));
    CHECK(e.any_hour);
    CHECK(e.any_day_of_month);
    CHECK(e.any_day_of_week);
    CHECK(e.text == "* * * * *");
  }

  TEST_CASE("numbers, lists, ranges and steps") {
    const CronExpression e = parse_cron_expression("0,15,30 9-17 1-10/3 */4 1-5");
    CHECK(e.minutes == bits({0, 15, 30}));
    CHECK(e.hours == range(9, 17));
    CHECK(e.days == bits({1, 4, 7, 10}));
    CHECK(e.months == bits({1, 5, 9}));
    CHECK(e.weekdays == range(1, 5));
    CHECK_FALSE(e.any_hour);
    CHECK_FALSE(e.any_day_of_month);
    CHECK_FALSE(e.any_day_of_week);
  }

  TEST_CASE("a step over a range starts at the range's start, not at a multiple") {
    CHECK(parse_cron_expression("5-20/7 * * * *").minutes == bits({5, 12, 19}));
    CHECK(parse_cron_expression("*/25 * * * *").minutes == bits({0, 25, 50}));
    CHECK(parse_cron_expression("*/7 * * * *").minutes == range(0, 59, 7));
  }

  TEST_CASE("A/N runs from A to the end of the field") {
    CHECK(parse_cron_expression("10/20 * * * *").minutes == bits({10, 30, 50}));
    // The day of week ends at 7, Sunday: 1/2 is Monday, Wednesday, Friday
    // and Sunday, and 7/1 is Sunday alone.
    CHECK(parse_cron_expression("* * * * 1/2").weekdays == bits({0, 1, 3, 5}));
    CHECK(parse_cron_expression("0 3 * * 7/1").weekdays == bits({0}));
  }

  TEST_CASE("month and weekday names, in any case, alone and in ranges") {
    const CronExpression e = parse_cron_expression("0 0 * JAN,mar-May,Dec mon-FRI,sun");
    CHECK(e.months == bits({1, 3, 4, 5, 12}));
    CHECK(e.weekdays == bits({0, 1, 2, 3, 4, 5}));
  }

  TEST_CASE("7 is Sunday, alone and at the end of a range") {
    CHECK(parse_cron_expression("0 0 * * 7").weekdays == bits({0}));
    CHECK(parse_cron_expression("0 0 * * 5-7").weekdays == bits({0, 5, 6}));
    CHECK(parse_cron_expression("0 0 * * 0,7").weekdays == bits({0}));
  }

  TEST_CASE("a field is restricted unless it starts with a star") {
    CHECK(parse_cron_expression("0 0 */2 * 1").any_day_of_month);
    CHECK_FALSE(parse_cron_expression("0 0 */2 * 1").any_day_of_week);
    CHECK(parse_cron_expression("0 */2 * * *").any_hour);
  }

  TEST_CASE("the macros") {
    CHECK(parse_cron_expression("@hourly").minutes == bits({0}));
    CHECK(parse_cron_expression("@hourly").hours == range(0, 23));
    const CronExpression daily = parse_cron_expression("@daily");
    CHECK(daily.minutes == parse_cron_expression("@midnight").minutes);
    CHECK(parse_cron_expression("@midnight").hours == daily.hours);
    CHECK(daily.hours == bits({0}));
    CHECK(daily.text == "@daily");
    const CronExpression weekly = parse_cron_expression("@weekly");
    CHECK(weekly.weekdays == bits({0}));
    CHECK_FALSE(weekly.any_day_of_week);
    CHECK(parse_cron_expression("@monthly").days == bits({1}));
    const CronExpression yearly = parse_cron_expression("@yearly");
    CHECK(yearly.months == bits({1}));
    CHECK(yearly.days == bits({1}));
    CHECK(parse_cron_expression("@annually").months == yearly.months);
    CHECK(parse_cron_expression(" @Daily ").hours == bits({0}));
  }

  TEST_CASE("spaces, tabs and line ends between fields, around the expression") {
    CHECK(parse_cron_expression("  5\t4  * * *  ").minutes == bits({5}));
    // What a YAML block scalar (`schedule: >`) leaves at the end.
    CHECK(parse_cron_expression("5 4 * * *\n").minutes == bits({5}));
    CHECK(parse_cron_expression("@daily\r\n").hours == bits({0}));
  }

  TEST_CASE("a value out of range names the field and its range, at the value") {
    ParseFailure f = failure_of("61 * * * *");
    CHECK(f.message == "minute field: 61 is out of range 0-59");
    CHECK(f.offset == 0);
    f = failure_of("0 24 * * *");
    CHECK(f.message == "hour field: 24 is out of range 0-23");
    CHECK(f.offset == 2);
    f = failure_of("0 0 0 * *");
    CHECK(f.message == "day-of-month field: 0 is out of range 1-31");
    CHECK(f.offset == 4);
    f = failure_of("0 0 * 13 *");
    CHECK(f.message == "month field: 13 is out of range 1-12");
    f = failure_of("0 0 * * 8");
    CHECK(f.message == "day-of-week field: 8 is out of range 0-7");
    CHECK(f.offset == 8);
    f = failure_of("0 0 * * 1,2,99");
    CHECK(f.message == "day-of-week field: 99 is out of range 0-7");
    CHECK(f.offset == 12);
    CHECK(failure_of("0 1-99999999 * * *").message == "hour field: 99999999 is out of range 0-23");
  }

  TEST_CASE("bad ranges, steps, lists and names") {
    ParseFailure f = failure_of("0 0 * * fri-mon");
    CHECK(f.message ==
          "day-of-week field: the range fri-mon goes backwards (5 is after 1); write it as two "
          "ranges");
    CHECK(f.offset == 8);
    CHECK(failure_of("*/0 * * * *").message == "minute field: step 0 is out of range 1-60");
    CHECK(failure_of("*/61 * * * *").message == "minute field: step 61 is out of range 1-60");
    f = failure_of("*/x * * * *");
    CHECK(f.message == "minute field: 'x' is not a number (a step)");
    CHECK(f.offset == 2);
    CHECK(failure_of("*/ * * * *").message == "minute field: a step needs a number after '/'");
    f = failure_of("1,,2 * * * *");
    CHECK(f.message == "minute field: an empty item in the list (two commas, or one at an end)");
    CHECK(f.offset == 2);
    CHECK(failure_of("0 0 * jam *").message ==
          "month field: 'jam' is neither a number in 1-12 nor a name in jan-dec (did you mean "
          "'jan'?)");
    CHECK(failure_of("mon * * * *").message == "minute field: 'mon' is not a number in 0-59");
    CHECK(failure_of("1- * * * *").message ==
          "minute field: expected a number before or after '-'");
    CHECK(failure_of("5x * * * *").message ==
          "minute field: '5x' is not a number (a value in 0-59)");
  }

  TEST_CASE("the wrong number of fields, or none") {
    ParseFailure f = failure_of("0 0 * * * 2026");
    CHECK(f.message ==
          "has 6 fields; expected 5: minute hour day-of-month month day-of-week, or a macro such "
          "as @daily");
    CHECK(f.offset == 10);
    f = failure_of("0 0 *");
    CHECK(f.message.rfind("has 3 fields; expected 5", 0) == 0);
    CHECK(f.offset == 5);
    CHECK(failure_of("   ").message.rfind("is empty", 0) == 0);
  }

  TEST_CASE("unknown macros and @reboot") {
    CHECK(failure_of("@dayly").message ==
          "unknown macro @dayly; expected one of @yearly, @annually, @monthly, @weekly, @daily, "
          "@midnight or @hourly (did you mean '@daily'?)");
    CHECK(failure_of("@reboot").message ==
          "@reboot is not a schedule here; use run_at_start: true");
  }

  TEST_CASE("a day that no month of the schedule has is refused; Feb 29 is accepted") {
    const ParseFailure f = failure_of("0 0 30 feb *");
    CHECK(f.message ==
          "day-of-month field: 30 never falls in the months of the month field, so the schedule "
          "never runs");
    CHECK(f.offset == 4);
    CHECK(failure_of("0 0 31 apr,jun,sep,nov *").offset == 4);
    CHECK_NOTHROW(parse_cron_expression("0 0 29 2 *"));
    CHECK_NOTHROW(parse_cron_expression("0 0 31 4,5 *"));
    // Either day field matches when both are restricted: Mondays in February.
    CHECK_NOTHROW(parse_cron_expression("0 0 30 2 mon"));
  }
}
