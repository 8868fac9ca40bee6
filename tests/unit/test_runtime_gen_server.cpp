// gen_server: calls, casts, continues, idle timeouts, terminate, and calls
// that fail (timeout, a server that ended or crashed).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

#include "eventually.hpp"
#include "runtime/gen_server.hpp"

using namespace otpd::runtime;
using otpd::test::eventually;
using namespace std::chrono_literals;

namespace {

class Counter : public GenServer<Counter> {
 public:
  explicit Counter(int start = 0) : value_(start) {}
  int get() const { return value_; }
  void add(int n) { value_ += n; }
  int add_and_get(int n) { return value_ += n; }
  void fail() { throw std::runtime_error("counter broke"); }
  void sleep_for(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }
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
  Async<std::string> try_slow(int ms) { return try_within(100, ms); }
  Async<std::string> try_within(int limit_ms, int sleep_ms) {
    try {
      co_await target_.call_within(std::chrono::milliseconds(limit_ms), &Counter::sleep_for,
                                   sleep_ms);
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
  void handle_timeout() { ++timeouts_; }
  void idle_after(int ms) { set_idle_timeout(std::chrono::milliseconds(ms)); }
  int timeouts() const { return timeouts_; }
  std::string log() const { return log_; }
  void ping() {}

 private:
  std::atomic<int>& terminated_;
  std::string log_;
  int timeouts_ = 0;
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
    a.cast(&Mutual::ask, b, a);  // a waits for b, which waits for a
    // A message each, held unhandled while they wait, carrying the other's pid.
    a.cast(&Mutual::note, b);
    b.cast(&Mutual::note, a);
    CHECK(eventually([&] { return scheduler.live_processes() == 2; }));
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

TEST_CASE("a timed-out call fails, and its late reply reaches no one") {
  Scheduler scheduler(2);
  auto counter = start<Counter>(scheduler, 0);
  auto relay = start<Relay>(scheduler, counter);
  CHECK(relay.call_blocking(&Relay::try_slow, 300) == "timeout");
  // The late reply arrives while the relay handles other calls.
  relay.cast(&Relay::note);
  std::this_thread::sleep_for(300ms);
  CHECK(relay.call_blocking(&Relay::handled) == 1);
  CHECK(relay.call_blocking(&Relay::try_slow, 0) == "replied");
}

TEST_CASE("each call keeps its own time limit, whatever the calls before it had") {
  Scheduler scheduler(2);  // the relay and the counter on different threads
  auto counter = start<Counter>(scheduler, 0);
  auto relay = start<Relay>(scheduler, counter);
  SUBCASE("a shorter limit after a longer one") {
    CHECK(relay.call_blocking(&Relay::try_within, 5000, 0) == "replied");
    const auto began = std::chrono::steady_clock::now();
    CHECK(relay.call_blocking(&Relay::try_within, 100, 400) == "timeout");
    CHECK(std::chrono::steady_clock::now() - began < 390ms);
  }
  SUBCASE("a longer limit after a shorter one") {
    CHECK(relay.call_blocking(&Relay::try_within, 50, 0) == "replied");
    // The first call's deadline passes while this one waits; it still has
    // until its own.
    CHECK(relay.call_blocking(&Relay::try_within, 1000, 200) == "replied");
    CHECK(relay.call_blocking(&Relay::try_within, 100, 300) == "timeout");
  }
}

TEST_CASE("a call to a server that crashes in the handler fails with the error") {
  Scheduler scheduler(2);
  auto counter = start<Counter>(scheduler, 0);
  CHECK_THROWS_WITH_AS(counter.call_blocking(&Counter::fail), "counter broke", CallError);
  CHECK(eventually([&] { return !counter.pid().get()->alive(); }));
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
  CHECK(eventually([&] { return !counter.pid().get()->alive(); }));
  CHECK(eventually([&] { return !relay.pid().get()->alive(); }));
}

TEST_CASE("init, handle_continue, stop and terminate") {
  std::atomic<int> terminated{0};
  Scheduler scheduler(1);
  auto server = start<Lifecycle>(scheduler, terminated);
  CHECK(server.call_blocking(&Lifecycle::log) == "init;continue;");
  server.stop(ExitReason::shutdown());
  CHECK(eventually([&] { return terminated == 1; }));
}

TEST_CASE("the idle timeout fires after quiet periods only") {
  std::atomic<int> terminated{0};
  Scheduler scheduler(1);
  auto server = start<Lifecycle>(scheduler, terminated);
  server.call_blocking(&Lifecycle::idle_after, 100);
  // Busy: a message every 20 ms for 300 ms keeps it from firing.
  for (int i = 0; i < 15; ++i) {
    server.cast(&Lifecycle::ping);
    std::this_thread::sleep_for(20ms);
  }
  CHECK(server.call_blocking(&Lifecycle::timeouts) == 0);
  std::this_thread::sleep_for(250ms);
  const int quiet = server.call_blocking(&Lifecycle::timeouts);
  CHECK(quiet >= 1);
  CHECK(quiet <= 3);
  server.call_blocking(&Lifecycle::idle_after, 0);
  std::this_thread::sleep_for(250ms);
  CHECK(server.call_blocking(&Lifecycle::timeouts) == quiet);
}

namespace {

// Holds its thread in a handler until the test lets it go.
class Gate : public GenServer<Gate> {
 public:
  explicit Gate(std::shared_future<void> open) : open_(std::move(open)) {}
  void wait() { open_.wait(); }
  void ping() {}

 private:
  std::shared_future<void> open_;
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
    std::promise<void> open;
    auto gate = start<Gate>(scheduler, open.get_future().share());
    const Process& process = *gate.pid().get();
    gate.cast(&Gate::wait);
    CHECK(eventually([&] { return process.mailbox_length() == 0; }));
    for (int i = 0; i < 5; ++i) gate.cast(&Gate::ping);
    CHECK(process.mailbox_length() == 5);
    open.set_value();
    CHECK(eventually([&] { return process.mailbox_length() == 0; }));
  }
}
