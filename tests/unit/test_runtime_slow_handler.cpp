// A handler that keeps its thread too long is reported, with who it was.
#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "manual_time.hpp"
#include "runtime/gen_server.hpp"

using namespace otpd::runtime;
using otpd::test::ManualTime;
using namespace std::chrono_literals;

namespace {

// Its nap keeps its thread for as long as the runtime's clock says: the
// test's clock moves on inside the handler.
class Sleeper : public GenServer<Sleeper> {
 public:
  explicit Sleeper(ManualTime& time) : time_(time) {}
  void nap(int ms) { time_.advance(std::chrono::milliseconds(ms)); }
  int ping() const { return 1; }

 private:
  ManualTime& time_;
};

struct Reports {
  std::mutex mutex;
  std::condition_variable reported;
  std::vector<SlowHandler> seen;
  SlowHandlerPolicy policy(std::chrono::milliseconds limit) {
    return {.limit = limit, .report = [this](const SlowHandler& slow) {
              std::lock_guard lock(mutex);
              seen.push_back(slow);
              reported.notify_all();
            }};
  }
  // Whether a report has come, or comes within `bound`.
  bool arrive_within(std::chrono::milliseconds bound) {
    std::unique_lock lock(mutex);
    return reported.wait_for(lock, bound, [this] { return !seen.empty(); });
  }
  std::vector<SlowHandler> taken() {
    std::lock_guard lock(mutex);
    return seen;
  }
};

}  // namespace

TEST_CASE("a handler that blocks longer than the limit is reported with its process and type") {
  Reports reports;
  ManualTime time;
  Scheduler scheduler(1, reports.policy(30ms), &time);
  auto sleeper = start<Sleeper>(scheduler, time);
  sleeper.call_blocking(&Sleeper::nap, 120);
  REQUIRE(reports.arrive_within(5s));
  const SlowHandler slow = reports.taken().front();
  CHECK(slow.process_id == sleeper.pid().id());
  CHECK(slow.type.find("Sleeper") != std::string::npos);
  CHECK(slow.spent == 120ms);
}

TEST_CASE("quick handlers are not reported, and no limit means no report") {
  Reports reports;
  ManualTime time;
  {
    Scheduler scheduler(1, reports.policy(200ms), &time);
    auto sleeper = start<Sleeper>(scheduler, time);
    for (int i = 0; i < 1000; ++i) sleeper.cast(&Sleeper::ping);
    sleeper.call_blocking(&Sleeper::nap, 199);
    CHECK(sleeper.call_blocking(&Sleeper::ping) == 1);
  }
  {
    Scheduler scheduler(1, reports.policy(0ms), &time);
    auto sleeper = start<Sleeper>(scheduler, time);
    sleeper.call_blocking(&Sleeper::nap, 50);
  }
  CHECK(reports.taken().empty());
}
