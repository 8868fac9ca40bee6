#include <doctest/doctest.h>

#include "config/spec.hpp"
#include "protocol/duration.hpp"

using otpd::config::Duration;
using otpd::protocol::duration_error;
using otpd::protocol::format_duration;
using otpd::protocol::parse_duration;

namespace {

Duration ms(long long n) {
  return Duration{n};
}

}  // namespace

TEST_CASE("parse_duration accepts each unit") {
  CHECK(parse_duration("250ms") == ms(250));
  CHECK(parse_duration("5s") == ms(5'000));
  CHECK(parse_duration("2m") == ms(120'000));
  CHECK(parse_duration("1h") == ms(3'600'000));
  CHECK(parse_duration("0s") == ms(0));
  CHECK(parse_duration("0ms") == ms(0));
  CHECK(parse_duration("007s") == ms(7'000));
}

TEST_CASE("parse_duration accepts decimals that are whole milliseconds") {
  CHECK(parse_duration("1.5s") == ms(1'500));
  CHECK(parse_duration("0.001s") == ms(1));
  CHECK(parse_duration("0.5m") == ms(30'000));
  CHECK(parse_duration(".5s") == ms(500));
  CHECK(parse_duration("2.50s") == ms(2'500));
  CHECK(parse_duration("0.0001h") == ms(360));
  CHECK(parse_duration("1.0ms") == ms(1));
}

TEST_CASE("parse_duration accepts compound durations, largest unit first") {
  CHECK(parse_duration("1m30s") == ms(90'000));
  CHECK(parse_duration("1h30m") == ms(5'400'000));
  CHECK(parse_duration("1h2m3s4ms") == ms(3'723'004));
  CHECK(parse_duration("1s500ms") == ms(1'500));
  CHECK(parse_duration("1m30.5s") == ms(90'500));
}

TEST_CASE("parse_duration rejects what is not a duration") {
  for (const char* bad : {"",
                          "5",
                          "1.5",
                          "-5s",
                          "+5s",
                          "5 s",
                          " 5s",
                          "5s ",
                          "s",
                          "ms",
                          ".s",
                          "5sec",
                          "5S",
                          "5d",
                          "1.5ms",
                          "0.0001s",
                          "1s1m",
                          "1s1s",
                          "1m30",
                          "5s!",
                          "1e3ms",
                          "abc",
                          "99999999999999999h",
                          "1..5s",
                          "5ss"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_duration(bad).has_value());
    CHECK_FALSE(duration_error(bad).empty());
  }
}

TEST_CASE("duration_error explains the problem") {
  CHECK(duration_error("5") == "a bare number needs a unit: write 5s or 5000ms");
  CHECK(duration_error("1.5") == "a bare number needs a unit: write 1.5s or 1500ms");
  CHECK(duration_error("") == "a duration cannot be empty: write e.g. 5s");
  CHECK(duration_error("-5s") == "a duration cannot be negative");
  CHECK(duration_error("+5s") == "write the duration without a sign, e.g. 5s");
  CHECK(duration_error("5 s") == "remove the spaces: write e.g. 5s or 1m30s");
  CHECK(duration_error("5sec") == "unknown unit 'sec': write 's' instead");
  CHECK(duration_error("2mins") == "unknown unit 'mins': write 'm' instead");
  CHECK(duration_error("5x") == "unknown unit 'x': use ms, s, m or h");
  CHECK(duration_error("2d") == "days are not a unit: write hours, e.g. 24h");
  CHECK(duration_error("10us") == "durations are whole milliseconds: the smallest unit is ms");
  CHECK(duration_error("1.5ms") == "'1.5ms' is not a whole number of milliseconds");
  CHECK(duration_error("1s1m") ==
        "units must go from largest to smallest, each at most once, as in 1h30m or 1m30s");
  CHECK(duration_error("1m30") == "every number needs a unit: '30' at the end has none");
  CHECK(duration_error("s") == "expected a number followed by a unit, as in 5s or 1m30s");
  CHECK(duration_error("5s!") == "unexpected '!': write e.g. 5s or 1m30s");
  CHECK(duration_error("99999999999999999h") == "too large: at most 876000h (100 years)");
  // Past what std::chrono's nanoseconds hold from now: refused, not wrapped.
  CHECK(duration_error("3000000h") == "too large: at most 876000h (100 years)");
  CHECK(duration_error("876001h") == "too large: at most 876000h (100 years)");
  CHECK(parse_duration("876000h") == ms(876'000LL * 3'600'000));
  CHECK(duration_error("5s") == "");
}

TEST_CASE("format_duration writes the shortest exact compound form") {
  CHECK(format_duration(ms(0)) == "0s");
  CHECK(format_duration(ms(250)) == "250ms");
  CHECK(format_duration(ms(5'000)) == "5s");
  CHECK(format_duration(ms(120'000)) == "2m");
  CHECK(format_duration(ms(3'600'000)) == "1h");
  CHECK(format_duration(ms(90'000)) == "1m30s");
  CHECK(format_duration(ms(1'500)) == "1s500ms");
  CHECK(format_duration(ms(3'723'004)) == "1h2m3s4ms");
  CHECK(format_duration(ms(90'000'000)) == "25h");
  CHECK(format_duration(ms(-1'500)) == "-1s500ms");
}

TEST_CASE("format_duration output parses back to the same duration") {
  for (long long n :
       {1LL, 999LL, 1'000LL, 59'999LL, 60'001LL, 3'599'999LL, 86'400'000LL, 123'456'789LL}) {
    CAPTURE(n);
    CHECK(parse_duration(format_duration(ms(n))) == ms(n));
  }
}
