// Task: three results fetched concurrently, as in Elixir's Task docs.
//
//   tasks = [Task.async(fn -> fetch_user(id) end),
//            Task.async(fn -> fetch_orders(id) end),
//            Task.async(fn -> fetch_recommendations(id) end)]
//   [user, orders, recs] = Task.await_many(tasks, 2000)
//
// The fetches are slow, blocking functions (a sleep stands in for the
// network), marked blocking() so that each task gets a thread of its own
// and the three waits overlap: the page takes about one fetch's time, not
// three, and no thread of the pool waits. A function that does not block
// runs on the pool, unmarked.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "runtime/task.hpp"

using namespace otpd::runtime;
using namespace std::chrono_literals;

namespace {

std::string slow_fetch(const std::string& what, std::chrono::milliseconds latency) {
  std::this_thread::sleep_for(latency);
  return what;
}

class Dashboard : public GenServer<Dashboard> {
 public:
  Async<std::vector<std::string>> load(int user) {
    const std::string id = std::to_string(user);
    auto profile = async(blocking([id] { return slow_fetch("profile of " + id, 200ms); }));
    auto orders = async(blocking([id] { return slow_fetch("orders of " + id, 200ms); }));
    auto advice = async(blocking([id] { return slow_fetch("recommendations for " + id, 200ms); }));
    std::vector<Task<std::string>> tasks = {profile, orders, advice};
    co_return co_await await_many(tasks, 2s);
  }

  // A fetch that misses its timeout: the caller gets the error (and, as in
  // Elixir, the task is not killed for it; this handler catches the error,
  // so the linked task runs on, and its late result is dropped).
  Async<std::string> load_too_slow() {
    auto stuck = async(blocking([] { return slow_fetch("never shown", 1s); }));
    try {
      co_return co_await stuck.await(100ms);
    } catch (const CallError& e) {
      co_return std::string("gave up: ") + e.what();
    }
  }
};

}  // namespace

int main() {
  Scheduler scheduler(2);
  auto dashboard = start<Dashboard>(scheduler);

  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<std::string> page = dashboard.call_blocking(&Dashboard::load, 42);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  for (const std::string& part : page) std::printf("%s\n", part.c_str());
  std::printf("three 200 ms fetches took %lld ms together\n", static_cast<long long>(ms));

  const std::string slow = dashboard.call_blocking(&Dashboard::load_too_slow);
  std::printf("%s\n", slow.c_str());

  const bool right =
      page == std::vector<std::string>{"profile of 42", "orders of 42", "recommendations for 42"} &&
      slow.rfind("gave up: ", 0) == 0;
  return right ? 0 : 1;
}
