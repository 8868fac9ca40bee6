#include "config/cron_next_run.hpp"

#include <algorithm>
#include <compare>
#include <functional>
#include <vector>

namespace otpd::config {
namespace {

// A local date and time to the minute, without a time zone.
struct Civil {
  int year = 0;
  int month = 0;  // 1-12
  int day = 0;    // 1-31
  int hour = 0;
  int minute = 0;
  auto operator<=>(const Civil&) const = default;
};

bool is_leap(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int year, int month) {
  constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

// 0 = Sunday (Sakamoto's method).
int weekday(int year, int month, int day) {
  constexpr int offsets[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
  if (month < 3) year -= 1;
  return (year + year / 4 - year / 100 + year / 400 + offsets[month - 1] + day) % 7;
}

bool has(std::uint64_t bits, int value) {
  return ((bits >> value) & 1U) != 0;
}

bool day_matches(const CronExpression& e, int year, int month, int day) {
  const bool by_date = has(e.days, day);
  const bool by_weekday = has(e.weekdays, weekday(year, month, day));
  if (!e.any_day_of_month && !e.any_day_of_week) return by_date || by_weekday;
  return by_date && by_weekday;
}

void next_day(Civil& c) {
  c.hour = 0;
  c.minute = 0;
  if (++c.day <= days_in_month(c.year, c.month)) return;
  c.day = 1;
  if (++c.month <= 12) return;
  c.month = 1;
  ++c.year;
}

void next_minute(Civil& c) {
  if (++c.minute < 60) return;
  c.minute = 0;
  if (++c.hour < 24) return;
  next_day(c);
}

// The first local time at or after `c` that the expression matches, by the
// calendar alone; nothing after `last_year`.
std::optional<Civil> next_match(const CronExpression& e, Civil c, int last_year) {
  while (c.year <= last_year) {
    if (!has(e.months, c.month)) {
      c.day = days_in_month(c.year, c.month);
      next_day(c);
    } else if (!day_matches(e, c.year, c.month, c.day)) {
      next_day(c);
    } else if (!has(e.hours, c.hour)) {
      c.minute = 59;
      next_minute(c);
    } else if (!has(e.minutes, c.minute)) {
      next_minute(c);
    } else {
      return c;
    }
  }
  return std::nullopt;
}

struct Local {
  Civil civil;
  long offset = 0;  // seconds east of UTC
};

Local local_at(std::time_t t) {
  std::tm tm{};
  localtime_r(&t, &tm);
  return {{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min}, tm.tm_gmtoff};
}

std::optional<std::time_t> make_time(const Civil& c, int isdst) {
  std::tm tm{};
  tm.tm_year = c.year - 1900;
  tm.tm_mon = c.month - 1;
  tm.tm_mday = c.day;
  tm.tm_hour = c.hour;
  tm.tm_min = c.minute;
  tm.tm_isdst = isdst;
  const std::time_t t = std::mktime(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return t;
}

// The instants whose local time is `c`, in order: none in a skipped hour,
// two in a repeated one.
std::vector<std::time_t> instants_of(const Civil& c) {
  std::vector<std::time_t> found;
  for (int isdst : {0, 1}) {
    const auto t = make_time(c, isdst);
    if (t && local_at(*t).civil == c && std::find(found.begin(), found.end(), *t) == found.end()) {
      found.push_back(*t);
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

// The first instant in [low, high] for which `reached` holds, `reached`
// being false before some instant and true from it on.
std::time_t first_instant(std::time_t low, std::time_t high,
                          const std::function<bool(std::time_t)>& reached) {
  while (low < high) {
    const std::time_t middle = low + (high - low) / 2;
    if (reached(middle)) {
      high = middle;
    } else {
      low = middle + 1;
    }
  }
  return low;
}

// For a local time that a spring-forward change skips: the first instant
// after the gap.
std::optional<std::time_t> end_of_gap(const Civil& c) {
  const auto standard = make_time(c, 0);
  const auto daylight = make_time(c, 1);
  if (!standard || !daylight) return std::nullopt;
  constexpr std::time_t margin = 3 * 3600;
  return first_instant(std::min(*standard, *daylight) - margin,
                       std::max(*standard, *daylight) + margin,
                       [&c](std::time_t t) { return local_at(t).civil > c; });
}

// The first instant after `after` from `from` on that the expression
// matches, counting each local time at its first occurrence only, except
// that a schedule with `any_hour` takes a repeated time's second occurrence
// when the first is past.
std::optional<std::time_t> next_from(const CronExpression& e, Civil from, std::time_t after) {
  const int last_year = from.year + 50;
  Civil c = from;
  while (true) {
    const auto match = next_match(e, c, last_year);
    if (!match) return std::nullopt;
    c = *match;
    const std::vector<std::time_t> instants = instants_of(c);
    if (instants.empty()) {
      if (!e.any_hour) {
        const auto end = end_of_gap(c);
        if (end && *end > after) return end;
      }
    } else if (e.any_hour) {
      for (const std::time_t t : instants) {
        if (t > after) return t;
      }
    } else if (instants.front() > after) {
      return instants.front();
    }
    next_minute(c);
  }
}

}  // namespace

std::optional<std::time_t> next_cron_run(const CronExpression& e, std::time_t after) {
  const Local now = local_at(after);
  Civil from = now.civil;
  next_minute(from);
  const auto next = next_from(e, from, after);
  if (!next || !e.any_hour) return next;
  // The clock may go back between now and then: the repeated local times
  // come round again, and a schedule that follows the clock runs in them.
  const long later_offset = local_at(*next).offset;
  if (later_offset >= now.offset) return next;
  const std::time_t went_back = first_instant(after + 1, *next, [later_offset](std::time_t t) {
    return local_at(t).offset == later_offset;
  });
  const auto in_repeat = next_from(e, local_at(went_back).civil, went_back - 1);
  if (in_repeat && *in_repeat > after && *in_repeat < *next) return in_repeat;
  return next;
}

CronPlan start_cron_plan(const CronExpression& e, std::time_t now) {
  return {.next = next_cron_run(e, now), .checked = now};
}

CronCheck check_cron_plan(const CronExpression& e, const CronPlan& plan, std::time_t now) {
  CronCheck check{.plan = plan};
  CronPlan& next = check.plan;
  next.checked = now;
  if (now < plan.checked) {
    // Set back: the times between now and the plan come round again. Those
    // up to the last run stay done, unless that run is too far ahead to wait
    // for.
    if (next.last_run && *next.last_run - now > kCronSetBackLimit) next.last_run.reset();
    next.next = next_cron_run(e, std::max(now, next.last_run.value_or(now)));
  }
  if (next.next && now >= *next.next) {
    check.due = true;
    next.last_run = now;
    next.next = next_cron_run(e, now);
  }
  return check;
}

}  // namespace otpd::config
