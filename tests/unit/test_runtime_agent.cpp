// Agent: a value owned by a worker, read and changed from a thread outside
// the runtime and from a handler of another process.
#include <doctest/doctest.h>

#include <map>
#include <stdexcept>
#include <string>
#include <utility>

#include "end_processes.hpp"
#include "process_end.hpp"
#include "runtime/agent.hpp"

using namespace otpd::runtime;
using otpd::test::end_processes;
using otpd::test::ends_within;

namespace {

// Reads and changes an agent from its own handlers, with co_await.
class Bumper : public GenServer<Bumper> {
 public:
  explicit Bumper(Agent<int> counter) : counter_(std::move(counter)) {}
  Async<int> bump_and_read() {
    co_await counter_.update([](int& n) { n += 1; });
    const int previous = co_await counter_.get_and_update([](const int& n) {
      return std::pair{n, n * 10};
    });
    const int now = co_await counter_.get([](const int& n) { return n; });
    co_return previous * 1000 + now;
  }

 private:
  Agent<int> counter_;
};

}  // namespace

TEST_CASE("an agent's value is read and changed from outside the runtime") {
  Scheduler scheduler(2);
  Agent<std::map<std::string, int>> stock = start_agent(scheduler, std::map<std::string, int>{});
  stock.update_blocking([](std::map<std::string, int>& m) { m["apples"] = 3; });
  stock.update_blocking([](const std::map<std::string, int>& m) {
    auto next = m;
    next["pears"] = 2;
    return next;
  });
  for (int i = 0; i < 50; ++i) stock.cast_update([](auto& m) { m["apples"] += 1; });
  CHECK(stock.get_blocking([](const auto& m) { return m.at("apples"); }) == 53);
  const int taken = stock.get_and_update_blocking([](const auto& m) {
    auto next = m;
    next.erase("pears");
    return std::pair{m.at("pears"), next};
  });
  CHECK(taken == 2);
  CHECK(stock.get_blocking([](const auto& m) { return m.size(); }) == 1);
  CHECK(end_processes({stock.pid()}));
}

TEST_CASE("a handler awaits an agent without blocking its thread") {
  Scheduler scheduler(1);  // a blocking wait would deadlock here
  Agent<int> counter = start_agent(scheduler, 4);
  auto bumper = start<Bumper>(scheduler, counter);
  CHECK(bumper.call_blocking(&Bumper::bump_and_read) == 5 * 1000 + 50);
  CHECK(end_processes({counter.pid(), bumper.pid()}));
}

TEST_CASE("an update that throws ends the agent, and its caller gets the error") {
  Scheduler scheduler(2);
  Agent<int> counter = start_agent(scheduler, 0);
  try {
    counter.update_blocking([](int&) { throw std::runtime_error("bad update"); });
    FAIL("the update must fail");
  } catch (const CallError& e) {
    CHECK(e.kind() == CallError::Kind::failed);
    CHECK(std::string(e.what()) == "bad update");
  }
  CHECK(ends_within(counter.pid()));
  CHECK_THROWS_AS(counter.get_blocking([](const int& n) { return n; }), CallError);
}

TEST_CASE("a stopped agent answers no more") {
  Scheduler scheduler(1);
  Agent<std::string> name = start_agent(scheduler, std::string("otpd"));
  CHECK(name.get_blocking([](const std::string& s) { return s.size(); }) == 4);
  name.stop();
  CHECK(ends_within(name.pid()));
  CHECK_THROWS_AS(name.get_blocking([](const std::string& s) { return s; }), CallError);
}
