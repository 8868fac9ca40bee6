// gen_server: calls, casts, continues, idle timeouts, terminate, and calls
// that fail (timeout, a server that ended or crashed).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gate.hpp"
#include "manual_time.hpp"
#include "process_end.hpp"
#include "runtime/gen_server.hpp"

using namespace otpd::runtime;
using otpd::test::ends_within;
using otpd::test::Gate;
using otpd::test::ManualTime;
using namespace std::chrono_literals;

namespace {

class Counter : public GenServer<Counter> {
 public:
  explicit Counter(int start = 0) : value_(start) {}
  int get() const { return value_; }
  void add(int n) { value_ += n; }
  int add_and_get(int n) { return value_ += n; }
  void fail() { throw std::runtime_error("counter broke"); }
  // Answers once the gate opens (at once without one).
  void hold(std::shared_ptr<Gate> gate) {
    if (gate) gate->arrive_and_wait();
  }
  void quit() { stop(ExitReason::shutdown("asked")); }

 private:
  int value_;
};

// Calls another server from its own handler.
class Relay : public GenServer<Relay> {
 public:
  explicit Relay(Server<Counter> target) : target_(std::move(target)) {}
  Async<int> doubled() {
    const int now = co_await target_.call(&Counter::get);
    co_return now * 2;
  }
  Async<std::string> try_within(int limit_ms, std::shared_ptr<Gate> gate) {
    try {
      co_await target_.call_within(std::chrono::milliseconds(limit_ms), &Counter::hold, gate);
      co_return "replied";
    } catch (const CallError& e) {
      co_return e.kind() == CallError::Kind::timeout ? "timeout" : "other";
    }
  }
  Async<int> crash_target() {
    co_await target_.call(&Counter::fail);
    co_return 0;
  }
  int handled() const { return handled_; }
  void note() { ++handled_; }

 private:
  Server<Counter> target_;
  int handled_ = 0;
};

class Lifecycle : public GenServer<Lifecycle> {
 public:
  explicit Lifecycle(std::atomic<int>& terminated) : terminated_(terminated) {}
  void init() {
    log_ += "init;";
    continue_with([](Lifecycle& self) { self.log_ += "continue;"; });
  }
  void terminate(const ExitReason& reason) {
    terminated_ = reason.kind() == ExitReason::Kind::shutdown ? 1 : 2;
  }
  void handle_timeout() { fired_.push_back(scheduler().now()); }
  void idle_after(int ms) { set_idle_timeout(std::chrono::milliseconds(ms)); }
  std::vector<TimeSource::TimePoint> fired() const { return fired_; }
  std::string log() const { return log_; }
  void ping() {}

 private:
  std::atomic<int>& terminated_;
  std::string log_;
  std::vector<TimeSource::TimePoint> fired_;
};

// One of two servers that call each other from a handler: OTP's classic
// deadlock. Counts its instances, to see that none outlives the scheduler.
class Mutual : public GenServer<Mutual> {
 public:
  explicit Mutual(std::atomic<int>& alive) : alive_(alive) { ++alive_; }
  ~Mutual() override { --alive_; }
  Async<int> ask(Server<Mutual> other, Server<Mutual> me) {
    co_return co_await other.call_within(std::chrono::hours(1), &Mutual::ask, me, other);
  }
  void note(Server<Mutual>) {}
  void ping() {}

 private:
  std::atomic<int>& alive_;
};

}  // namespace

TEST_CASE("servers deadlocked in calls to each other are freed with the scheduler") {
  std::atomic<int> alive{0};
  {
    Scheduler scheduler(2);
    auto a = start<Mutual>(scheduler, alive);
    auto b = start<Mutual>(scheduler, alive);
    // Each has run, and so is on its thread's list of live processes.
    a.call_blocking(&Mutual::ping);
    b.call_blocking(&Mutual::ping);
    CHECK(scheduler.live_processes() == 2);
    a.cast(&Mutual::ask, b, a);  // a waits for b, which waits for a
    // A message each, held unhandled while they wait, carrying the other's pid.
    a.cast(&Mutual::note, b);
    b.cast(&Mutual::note, a);
  }
  CHECK(alive == 0);
}

TEST_CASE("cast and call run on the server in the order sent") {
  Scheduler scheduler(2);
  auto counter = start<Counter>(scheduler, 10);
  for (int i = 0; i < 100; ++i) counter.cast(&Counter::add, 1);
  CHECK(counter.call_blocking(&Counter::get) == 110);
  CHECK(counter.call_blocking(&Counter::add_and_get, 5) == 115);
  counter.call_blocking(&Counter::add, 1);  // a void call waits for the handler
  CHECK(counter.call_blocking([](Counter& c) { return c.get() * 10; }) == 1160);
}

TEST_CASE("a handler calls another server without blocking its thread") {
  Scheduler scheduler(1);  // one thread: a blocking call would deadlock
  auto counter = start<Counter>(scheduler, 21);
  auto relay = start<Relay>(scheduler, counter);
  CHECK(relay.call_blocking(&Relay::doubled) == 42);
}

// Asks the relay, on a thread of its own, to call the counter within
// `limit_ms`, the counter holding the call at `gate`.
std::future<std::string> try_within(const Server<Relay>& relay, int limit_ms,
                                    std::shared_ptr<Gate> gate) {
  return std::async(std::launch::async, [relay, limit_ms, gate] {
    return relay.call_blocking(&Relay::try_within, limit_ms, gate);
  });
}

TEST_CASE("a timed-out call fails, and its late reply reaches no one") {
  ManualTime time;
  Scheduler scheduler(2, {}, &time);  // the counter and the relay on different threads
  auto counter = start<Counter>(scheduler, 0);
  auto relay = start<Relay>(scheduler, counter);
  auto gate = std::make_shared<Gate>();
  auto answer = try_within(relay, 100, gate);
  REQUIRE(gate->wait_arrived());
  time.advance(100ms);
  CHECK(answer.get() == "timeout");
  // The relay handles other calls while the late reply is on its way.
  relay.cast(&Relay::note);
  gate->open();
  // The counter answers this call after the late reply: the relay must
  // drop that one and take its own.
  CHECK(relay.call_blocking(&Relay::try_within, 100, std::shared_ptr<Gate>()) == "replied");
  CHECK(relay.call_blocking(&Relay::handled) == 1);
}

TEST_CASE("each call keeps its own time limit, whatever the calls before it had") {
  ManualTime time;
  Scheduler scheduler(2, {}, &time);  // the relay and the counter on different threads
  auto counter = start<Counter>(scheduler, 0);
  auto relay = start<Relay>(scheduler, counter);
  SUBCASE("a shorter limit after a longer one") {
    CHECK(relay.call_blocking(&Relay::try_within, 5000, std::shared_ptr<Gate>()) == "replied");
    auto gate = std::make_shared<Gate>();
    auto answer = try_within(relay, 100, gate);
    REQUIRE(gate->wait_arrived());
    time.advance(100ms);  // not the 5 s of the call before
    CHECK(answer.get() == "timeout");
    gate->open();
  }
  SUBCASE("a longer limit after a shorter one") {
    CHECK(relay.call_blocking(&Relay::try_within, 50, std::shared_ptr<Gate>()) == "replied");
    // The first call's deadline passes while this one waits; it still has
    // until its own.
    auto gate = std::make_shared<Gate>();
    auto answer = try_within(relay, 1000, gate);
    REQUIRE(gate->wait_arrived());
    time.advance(999ms);
    gate->open();
    CHECK(answer.get() == "replied");
    auto gate2 = std::make_shared<Gate>();
    auto late = try_within(relay, 100, gate2);
    REQUIRE(gate2->wait_arrived());
    time.advance(100ms);
    CHECK(late.get() == "timeout");
    gate2->open();
  }
}

TEST_CASE("a call to a server that crashes in the handler fails with the error") {
  Scheduler scheduler(2);
  auto counter = start<Counter>(scheduler, 0);
  CHECK_THROWS_WITH_AS(counter.call_blocking(&Counter::fail), "counter broke", CallError);
  CHECK(ends_within(counter.pid()));
  try {
    counter.call_blocking(&Counter::get);
    FAIL("a call to an ended server must fail");
  } catch (const CallError& e) {
    CHECK(e.kind() == CallError::Kind::noproc);
  }
}

TEST_CASE("a caller that does not catch a failed call crashes with it, as in OTP") {
  Scheduler scheduler(2);
  auto counter = start<Counter>(scheduler, 0);
  auto relay = start<Relay>(scheduler, counter);
  CHECK_THROWS_AS(relay.call_blocking(&Relay::crash_target), CallError);
  CHECK(ends_within(counter.pid()));
  CHECK(ends_within(relay.pid()));
}

TEST_CASE("init, handle_continue, stop and terminate") {
  std::atomic<int> terminated{0};
  Scheduler scheduler(1);
  auto server = start<Lifecycle>(scheduler, terminated);
  CHECK(server.call_blocking(&Lifecycle::log) == "init;continue;");
  server.stop(ExitReason::shutdown());
  // terminate has run by the time the monitors are told.
  CHECK(ends_within(server.pid()));
  CHECK(terminated == 1);
}

TEST_CASE("the idle timeout fires after quiet periods only") {
  std::atomic<int> terminated{0};
  ManualTime time;
  Scheduler scheduler(1, {}, &time);
  auto server = start<Lifecycle>(scheduler, terminated);
  const auto step = [&](int ms) {
    for (int i = 0; i < ms; ++i) time.advance(1ms);
  };
  server.call_blocking(&Lifecycle::idle_after, 100);
  // Busy: a message every 20 ms for 300 ms keeps it from firing.
  for (int i = 0; i < 15; ++i) {
    server.call_blocking(&Lifecycle::ping);
    step(20);
  }
  const auto last_message = time.now() - 20ms;
  step(180);
  // Any message is activity, these calls too: asked once, at the end. When
  // it fired, in milliseconds after the last message:
  std::vector<long> fired;
  for (const auto at : server.call_blocking(&Lifecycle::fired)) {
    fired.push_back(static_cast<long>((at - last_message) / 1ms));
  }
  std::string shown;
  for (const long ms : fired) shown += std::to_string(ms) + " ";
  CAPTURE(shown);
  CHECK(fired == std::vector<long>{100, 200});
  server.call_blocking(&Lifecycle::idle_after, 0);
  step(300);
  CHECK(server.call_blocking(&Lifecycle::fired).size() == 2);
}

namespace {

// Holds its thread in a handler until the test lets it go.
class HeldServer : public GenServer<HeldServer> {
 public:
  void wait(std::shared_ptr<Gate> gate) { gate->arrive_and_wait(); }
  void ping() {}
};

}  // namespace

TEST_CASE("a server's messages handled and waiting are counted, as process_info's") {
  Scheduler scheduler(2);
  SUBCASE("handled") {
    auto counter = start<Counter>(scheduler, 0);
    const Process& process = *counter.pid().get();
    CHECK(counter.call_blocking(&Counter::get) == 0);
    const auto before = process.messages_handled();
    for (int i = 0; i < 100; ++i) counter.cast(&Counter::add, 1);
    CHECK(counter.call_blocking(&Counter::get) == 100);
    CHECK(process.messages_handled() - before == 101);
    CHECK(process.mailbox_length() == 0);
  }
  SUBCASE("waiting") {
    auto gate = std::make_shared<Gate>();
    auto held = start<HeldServer>(scheduler);
    const Process& process = *held.pid().get();
    held.cast(&HeldServer::wait, gate);
    REQUIRE(gate->wait_arrived());  // its one message taken out, being handled
    CHECK(process.mailbox_length() == 0);
    for (int i = 0; i < 5; ++i) held.cast(&HeldServer::ping);
    CHECK(process.mailbox_length() == 5);
    gate->open();
    held.call_blocking(&HeldServer::ping);  // after the five, in order
    CHECK(process.mailbox_length() == 0);
  }
}
