// GenServer: a counter, as in Elixir's GenServer guide.
//
//   defmodule Counter do
//     use GenServer
//     def init(initial), do: {:ok, initial}
//     def handle_cast(:increment, n), do: {:noreply, n + 1}
//     def handle_call(:value, _from, n), do: {:reply, n, n}
//   end
#include <cstdio>

#include "runtime/gen_server.hpp"

using namespace otpd::runtime;

class Counter : public GenServer<Counter> {
 public:
  explicit Counter(int initial) : value_(initial) {}

  void increment() { ++value_; }          // handle_cast(:increment, ...)
  int value() const { return value_; }    // handle_call(:value, ...)
  int add(int n) { return value_ += n; }  // handle_call({:add, n}, ...)

  void terminate(const ExitReason& reason) {
    std::printf("counter stops at %d (%s)\n", value_, reason.text().c_str());
  }

 private:
  int value_;
};

int main() {
  Scheduler scheduler(2);
  Server<Counter> counter = start<Counter>(scheduler, 0);  // GenServer.start_link(Counter, 0)

  for (int i = 0; i < 1000; ++i) counter.cast(&Counter::increment);  // GenServer.cast
  const int after_casts = counter.call_blocking(&Counter::value);    // GenServer.call
  const int after_add = counter.call_blocking(&Counter::add, 10);
  std::printf("after 1000 increments: %d; after adding 10: %d\n", after_casts, after_add);

  counter.stop(ExitReason::shutdown());  // GenServer.stop: terminate/2 runs
  try {
    counter.call_blocking(&Counter::value);
    return 1;  // a stopped server must not answer
  } catch (const CallError& e) {
    std::printf("a call to the stopped counter fails: %s\n", e.what());
  }
  return after_casts == 1000 && after_add == 1010 ? 0 : 1;
}
