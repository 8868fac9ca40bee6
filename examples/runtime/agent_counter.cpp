// Agent: a counter, as in Elixir's Agent docs.
//
//   {:ok, counter} = Agent.start_link(fn -> 0 end)
//   Agent.update(counter, &(&1 + 1))
//   Agent.get(counter, & &1)
#include <cstdio>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/agent.hpp"

using namespace otpd::runtime;

int main() {
  Scheduler scheduler(2);
  Agent<int> counter = start_agent(scheduler, 0);  // Agent.start_link(fn -> 0 end)

  counter.update_blocking([](int n) { return n + 1; });  // Agent.update(counter, &(&1 + 1))

  // Four threads bump it at once; the agent applies one update at a time.
  std::vector<std::thread> bumpers;
  for (int t = 0; t < 4; ++t) {
    bumpers.emplace_back([counter] {
      for (int i = 0; i < 250; ++i) counter.cast_update([](int& n) { ++n; });  // Agent.cast
    });
  }
  for (auto& bumper : bumpers) bumper.join();

  // Agent.get_and_update: read 1001 and reset to 0 in one step.
  const int taken = counter.get_and_update_blocking([](const int& n) { return std::pair{n, 0}; });
  const int now = counter.get_blocking([](const int& n) { return n; });  // Agent.get
  std::printf("counted %d, then reset to %d\n", taken, now);
  counter.stop();
  return taken == 1001 && now == 0 ? 0 : 1;
}
