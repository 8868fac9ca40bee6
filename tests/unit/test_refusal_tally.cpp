// Refusals a stranger can cause at will are all counted but logged at a
// bounded rate: the first in full, then one summary per interval.
#include <doctest/doctest.h>

#include <string>

#include "control/refusal_tally.hpp"

using otpd::control::Refusal;
using otpd::control::RefusalTally;
using Clock = RefusalTally::Clock;
using std::chrono::seconds;

namespace {

const Clock::time_point t0 = Clock::time_point() + std::chrono::hours(1);

}  // namespace

TEST_SUITE("refusal tally") {
  TEST_CASE("the first is logged in full, the rest of the interval summed up once") {
    RefusalTally tally(Refusal::connection, seconds(10));
    CHECK(tally.admit(1001, t0));
    CHECK_FALSE(tally.summary_due());
    int in_full = 0;
    for (int i = 0; i < 56000; ++i) in_full += tally.admit(1001, t0 + seconds(i % 10));
    CHECK(in_full == 0);
    REQUIRE(tally.summary_due());
    CHECK(*tally.summary_due() == t0 + seconds(10));
    CHECK(tally.take_summary(t0 + seconds(10)) ==
          "control: refused 56000 more connections from uid 1001 in the last 10 s: not otpd's "
          "user nor in its groups");
    CHECK(tally.total() == 56001);
    CHECK(tally.held() == 0);
    CHECK(tally.take_summary(t0 + seconds(11)).empty());
  }

  TEST_CASE("while refusals go on, one summary per interval and no line in full") {
    RefusalTally tally(Refusal::connection, seconds(10));
    CHECK(tally.admit(7, t0));
    CHECK_FALSE(tally.admit(7, t0 + seconds(5)));
    CHECK_FALSE(tally.take_summary(t0 + seconds(10)).empty());
    // Right after a summary: held for the next one, due an interval later.
    CHECK_FALSE(tally.admit(7, t0 + seconds(11)));
    CHECK(*tally.summary_due() == t0 + seconds(20));
  }

  TEST_CASE("after a quiet interval the next refusal is logged in full again") {
    RefusalTally tally(Refusal::request, seconds(10));
    CHECK(tally.admit(5, t0));
    CHECK(tally.admit(5, t0 + seconds(10)));
    CHECK_FALSE(tally.admit(5, t0 + seconds(12)));
    CHECK(tally.take_summary(t0 + seconds(20)) ==
          "control: refused 1 more requests from uid 5 in the last 10 s: commands that need "
          "full access, from read-only users");
    CHECK(tally.total() == 3);
  }

  TEST_CASE("several users: counts per uid, the busiest first; the first 8 seen are named") {
    RefusalTally tally(Refusal::connection, seconds(10));
    CHECK(tally.admit(1, t0));
    for (uid_t uid = 100; uid < 110; ++uid) {
      for (uid_t n = 0; n <= uid - 100; ++n) tally.admit(uid, t0);
    }
    const std::string summary = tally.take_summary(t0 + seconds(10));
    CHECK(summary ==
          "control: refused 55 more connections from uid 107 (8), uid 106 (7), uid 105 (6), "
          "uid 104 (5), uid 103 (4), uid 102 (3), uid 101 (2), uid 100 (1) and other users "
          "(19) in the last 10 s: not otpd's user nor in its groups");
  }

  TEST_CASE("unidentified peers are counted without a uid") {
    RefusalTally tally(Refusal::unidentified, seconds(10));
    CHECK(tally.admit(0, t0));
    CHECK_FALSE(tally.admit(0, t0));
    CHECK(tally.take_summary(t0 + seconds(3)) ==
          "control: refused 1 more connections in the last 3 s: their peer could not be "
          "identified");
  }

  TEST_CASE("connections answered 'busy' are summed up the same way") {
    RefusalTally tally(Refusal::busy, seconds(10));
    CHECK(tally.admit(1000, t0));
    CHECK_FALSE(tally.admit(1000, t0 + seconds(1)));
    CHECK_FALSE(tally.admit(1000, t0 + seconds(2)));
    CHECK(tally.take_summary(t0 + seconds(10)) ==
          "control: answered 2 more connections with 'busy' from uid 1000 in the last 10 s: "
          "otpd is out of file descriptors");
  }
}
