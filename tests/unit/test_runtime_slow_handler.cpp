// A handler that keeps its thread too long is reported, with who it was.
#include <doctest/doctest.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "eventually.hpp"
#include "runtime/gen_server.hpp"

using namespace otpd::runtime;
using otpd::test::eventually;
using namespace std::chrono_literals;

namespace {

class Sleeper : public GenServer<Sleeper> {
 public:
  void nap(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }
  int ping() const { return 1; }
};

struct Reports {
  std::mutex mutex;
  std::vector<SlowHandler> seen;
  SlowHandlerPolicy policy(std::chrono::milliseconds limit) {
    return {.limit = limit, .report = [this](const SlowHandler& slow) {
              std::lock_guard lock(mutex);
              seen.push_back(slow);
            }};
  }
  std::vector<SlowHandler> taken() {
    std::lock_guard lock(mutex);
    return seen;
  }
};

}  // namespace

TEST_CASE("a handler that blocks longer than the limit is reported with its process and type") {
  Reports reports;
  Scheduler scheduler(1, reports.policy(30ms));
  auto sleeper = start<Sleeper>(scheduler);
  sleeper.call_blocking(&Sleeper::nap, 120);
  REQUIRE(eventually([&] { return !reports.taken().empty(); }));
  const SlowHandler slow = reports.taken().front();
  CHECK(slow.process_id == sleeper.pid().id());
  CHECK(slow.type.find("Sleeper") != std::string::npos);
  CHECK(slow.spent >= 100ms);
}

TEST_CASE("quick handlers are not reported, and no limit means no report") {
  Reports reports;
  {
    Scheduler scheduler(1, reports.policy(200ms));
    auto sleeper = start<Sleeper>(scheduler);
    for (int i = 0; i < 1000; ++i) sleeper.cast(&Sleeper::ping);
    CHECK(sleeper.call_blocking(&Sleeper::ping) == 1);
  }
  {
    Scheduler scheduler(1, reports.policy(0ms));
    auto sleeper = start<Sleeper>(scheduler);
    sleeper.call_blocking(&Sleeper::nap, 50);
  }
  CHECK(reports.taken().empty());
}
