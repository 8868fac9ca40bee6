// The supervisor's decisions as a table: every strategy, every restart type
// of the child that ended, every kind of exit, with room left in the
// restart window and with none; and the steps of a stop. Every supervisor
// in otpd, the tree's and the runtime's, follows these.
#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "config/spec.hpp"
#include "runtime/restart_decision.hpp"

using namespace otpd;
using namespace otpd::runtime;
using namespace std::chrono_literals;
using Action = RestartDecision::Action;
using Kind = config::ExitKind;
using config::RestartType;
using config::Strategy;

namespace {

// Three children in start order, one of each restart type.
constexpr std::uint64_t a = 1;  // permanent
constexpr std::uint64_t b = 2;  // transient
constexpr std::uint64_t c = 3;  // temporary
const std::vector<ChildFacts> kChildren{
    {.id = a, .restart = RestartType::permanent},
    {.id = b, .restart = RestartType::transient},
    {.id = c, .restart = RestartType::temporary},
};

using Ids = otpd::runtime::ChildIds;
using Clock = RestartWindow::TimePoint::clock;
const RestartWindow::TimePoint kNow = Clock::time_point{} + 1h;

// Intensity 2 in 5 s: `used` restarts already counted, 1 s ago.
RestartWindow window(int used) {
  RestartWindow w(2, 5s);
  for (int i = 0; i < used; ++i) w.add(kNow - 1s);
  return w;
}

struct Case {
  Strategy strategy;
  std::uint64_t ended;
  Kind exit;
  int used;  // restarts in the window: 2 is full
  RestartDecision expected;
};

const RestartDecision kRemove{.action = Action::remove};
const RestartDecision kKeep{.action = Action::keep_stopped};
const RestartDecision kGiveUp{.action = Action::give_up};
RestartDecision restart(Ids stop, Ids drop, Ids start) {
  return {.action = Action::restart, .stop = stop, .drop = drop, .start = start};
}

std::string describe(const Case& row) {
  return std::string(config::to_string(row.strategy)) + ", child " + std::to_string(row.ended) +
         ", exit " + std::to_string(static_cast<int>(row.exit)) + ", window " +
         std::to_string(row.used) + "/2";
}

// clang-format off
const std::vector<Case> kTable{
    // one_for_one: only the child that ended.
    {Strategy::one_for_one, a, Kind::normal,   0, restart({}, {}, {a})},
    {Strategy::one_for_one, a, Kind::shutdown, 0, restart({}, {}, {a})},
    {Strategy::one_for_one, a, Kind::abnormal, 0, restart({}, {}, {a})},
    {Strategy::one_for_one, a, Kind::normal,   2, kGiveUp},
    {Strategy::one_for_one, a, Kind::shutdown, 2, kGiveUp},
    {Strategy::one_for_one, a, Kind::abnormal, 2, kGiveUp},
    {Strategy::one_for_one, b, Kind::normal,   0, kKeep},
    {Strategy::one_for_one, b, Kind::shutdown, 0, kKeep},
    {Strategy::one_for_one, b, Kind::abnormal, 0, restart({}, {}, {b})},
    {Strategy::one_for_one, b, Kind::normal,   2, kKeep},
    {Strategy::one_for_one, b, Kind::shutdown, 2, kKeep},
    {Strategy::one_for_one, b, Kind::abnormal, 2, kGiveUp},
    {Strategy::one_for_one, c, Kind::normal,   0, kRemove},
    {Strategy::one_for_one, c, Kind::shutdown, 0, kRemove},
    {Strategy::one_for_one, c, Kind::abnormal, 0, kRemove},
    {Strategy::one_for_one, c, Kind::normal,   2, kRemove},
    {Strategy::one_for_one, c, Kind::shutdown, 2, kRemove},
    {Strategy::one_for_one, c, Kind::abnormal, 2, kRemove},
    // one_for_all: every sibling down, the last started first; the
    // temporary one stays down.
    {Strategy::one_for_all, a, Kind::normal,   0, restart({c, b}, {c}, {a, b})},
    {Strategy::one_for_all, a, Kind::shutdown, 0, restart({c, b}, {c}, {a, b})},
    {Strategy::one_for_all, a, Kind::abnormal, 0, restart({c, b}, {c}, {a, b})},
    {Strategy::one_for_all, a, Kind::normal,   2, kGiveUp},
    {Strategy::one_for_all, a, Kind::shutdown, 2, kGiveUp},
    {Strategy::one_for_all, a, Kind::abnormal, 2, kGiveUp},
    {Strategy::one_for_all, b, Kind::normal,   0, kKeep},
    {Strategy::one_for_all, b, Kind::shutdown, 0, kKeep},
    {Strategy::one_for_all, b, Kind::abnormal, 0, restart({c, a}, {c}, {a, b})},
    {Strategy::one_for_all, b, Kind::normal,   2, kKeep},
    {Strategy::one_for_all, b, Kind::shutdown, 2, kKeep},
    {Strategy::one_for_all, b, Kind::abnormal, 2, kGiveUp},
    {Strategy::one_for_all, c, Kind::normal,   0, kRemove},
    {Strategy::one_for_all, c, Kind::shutdown, 0, kRemove},
    {Strategy::one_for_all, c, Kind::abnormal, 0, kRemove},
    {Strategy::one_for_all, c, Kind::normal,   2, kRemove},
    {Strategy::one_for_all, c, Kind::shutdown, 2, kRemove},
    {Strategy::one_for_all, c, Kind::abnormal, 2, kRemove},
    // rest_for_one: the siblings started after it.
    {Strategy::rest_for_one, a, Kind::normal,   0, restart({c, b}, {c}, {a, b})},
    {Strategy::rest_for_one, a, Kind::shutdown, 0, restart({c, b}, {c}, {a, b})},
    {Strategy::rest_for_one, a, Kind::abnormal, 0, restart({c, b}, {c}, {a, b})},
    {Strategy::rest_for_one, a, Kind::normal,   2, kGiveUp},
    {Strategy::rest_for_one, a, Kind::shutdown, 2, kGiveUp},
    {Strategy::rest_for_one, a, Kind::abnormal, 2, kGiveUp},
    {Strategy::rest_for_one, b, Kind::normal,   0, kKeep},
    {Strategy::rest_for_one, b, Kind::shutdown, 0, kKeep},
    {Strategy::rest_for_one, b, Kind::abnormal, 0, restart({c}, {c}, {b})},
    {Strategy::rest_for_one, b, Kind::normal,   2, kKeep},
    {Strategy::rest_for_one, b, Kind::shutdown, 2, kKeep},
    {Strategy::rest_for_one, b, Kind::abnormal, 2, kGiveUp},
    {Strategy::rest_for_one, c, Kind::normal,   0, kRemove},
    {Strategy::rest_for_one, c, Kind::shutdown, 0, kRemove},
    {Strategy::rest_for_one, c, Kind::abnormal, 0, kRemove},
    {Strategy::rest_for_one, c, Kind::normal,   2, kRemove},
    {Strategy::rest_for_one, c, Kind::shutdown, 2, kRemove},
    {Strategy::rest_for_one, c, Kind::abnormal, 2, kRemove},
};
// clang-format on

}  // namespace

TEST_CASE("decide_exit: strategy x restart type x exit x restart window") {
  for (const Case& row : kTable) {
    CAPTURE(describe(row));
    CHECK(decide_exit(row.strategy, kChildren, row.ended, row.exit, window(row.used), kNow) ==
          row.expected);
  }
}

TEST_CASE("decide_exit: one restart left in the window is a restart") {
  CHECK(decide_exit(Strategy::one_for_one, kChildren, a, Kind::abnormal, window(1), kNow) ==
        restart({}, {}, {a}));
}

TEST_CASE("decide_exit: restarts older than the period no longer count") {
  RestartWindow old(2, 5s);
  old.add(kNow - 6s);
  old.add(kNow - 6s);
  CHECK(decide_exit(Strategy::one_for_one, kChildren, a, Kind::abnormal, old, kNow) ==
        restart({}, {}, {a}));
  // One exactly `period` old still counts, as in OTP.
  RestartWindow edge(2, 5s);
  edge.add(kNow - 5s);
  edge.add(kNow - 5s);
  CHECK(decide_exit(Strategy::one_for_one, kChildren, a, Kind::abnormal, edge, kNow) == kGiveUp);
}

TEST_CASE("decide_exit: intensity 0 gives up at the first restart") {
  const RestartWindow none(0, 5s);
  CHECK(decide_exit(Strategy::one_for_one, kChildren, a, Kind::abnormal, none, kNow) == kGiveUp);
  CHECK(decide_exit(Strategy::one_for_one, kChildren, c, Kind::abnormal, none, kNow) == kRemove);
}

TEST_CASE("decide_exit: a dynamic supervisor's child that is done leaves the tree") {
  const std::vector<ChildFacts> added{
      {.id = 7, .restart = RestartType::transient, .dynamic = true},
      {.id = 8, .restart = RestartType::temporary, .dynamic = true}};
  CHECK(decide_exit(Strategy::one_for_one, added, 7, Kind::normal, window(0), kNow) == kRemove);
  CHECK(decide_exit(Strategy::one_for_one, added, 7, Kind::shutdown, window(0), kNow) == kRemove);
  CHECK(decide_exit(Strategy::one_for_one, added, 7, Kind::abnormal, window(0), kNow) ==
        restart({}, {}, {7}));
  CHECK(decide_exit(Strategy::one_for_one, added, 8, Kind::abnormal, window(0), kNow) == kRemove);
}

TEST_CASE("decide_retry: a failed start is retried whatever the restart type, counted") {
  CHECK(decide_retry(Strategy::one_for_one, kChildren, c, window(0), kNow) == restart({}, {}, {c}));
  CHECK(decide_retry(Strategy::rest_for_one, kChildren, a, window(0), kNow) ==
        restart({c, b}, {c}, {a, b}));
  CHECK(decide_retry(Strategy::one_for_all, kChildren, b, window(2), kNow) == kGiveUp);
}

TEST_CASE("decide_exit: siblings are stopped last-started first, started in order") {
  std::vector<ChildFacts> five;
  for (std::uint64_t id = 1; id <= 5; ++id) five.push_back({.id = id});
  CHECK(decide_exit(Strategy::rest_for_one, five, 3, Kind::abnormal, window(0), kNow) ==
        restart({5, 4}, {}, {3, 4, 5}));
  CHECK(decide_exit(Strategy::one_for_all, five, 3, Kind::abnormal, window(0), kNow) ==
        restart({5, 4, 2, 1}, {}, {1, 2, 3, 4, 5}));
  CHECK(decide_exit(Strategy::rest_for_one, five, 5, Kind::abnormal, window(0), kNow) ==
        restart({}, {}, {5}));
}

TEST_CASE("a stop's steps, whoever carries them out: ask, then kill after the timeout") {
  const config::Shutdown timed = config::Shutdown::after(2s);
  CHECK(timed.asks());
  CHECK(timed.kill_after() == std::optional(std::chrono::milliseconds(2000)));
  // brutal_kill kills at once, without asking.
  CHECK_FALSE(config::Shutdown::brutal_kill().asks());
  CHECK(config::Shutdown::brutal_kill().kill_after() ==
        std::optional(std::chrono::milliseconds(0)));
  // infinity asks and waits as long as it takes.
  CHECK(config::Shutdown::infinity().asks());
  CHECK_FALSE(config::Shutdown::infinity().kill_after().has_value());
}
