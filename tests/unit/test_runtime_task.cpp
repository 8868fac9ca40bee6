// Task and TaskSupervisor: async/await, await_many, timeouts that kill nothing,
// crashes that propagate through links or are reported to the awaiter.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "end_processes.hpp"
#include "gate.hpp"
#include "process_end.hpp"
#include "runtime/task.hpp"

using namespace otpd::runtime;
using otpd::test::end_processes;
using otpd::test::ends_within;
using otpd::test::EndWatcher;
using otpd::test::Gate;
using namespace std::chrono_literals;

namespace {

// Answers a call only once the gate opens: a call that takes as long as the
// test wants.
class Slow : public GenServer<Slow> {
 public:
  bool wait_at(std::shared_ptr<Gate> gate) { return gate->arrive_and_wait(1000); }
};

// Runs task scenarios in its handlers, as an Elixir process would.
class Boss : public GenServer<Boss> {
 public:
  Async<int> sum_of_three() {
    auto a = async([] { return 1; });
    auto b = async([]() -> Async<int> { co_return 20; });
    auto c = async([] { return 300; });
    // g++ 12 cannot compile a braced list inside a co_await expression.
    std::vector<Task<int>> tasks = {a, b, c};
    const std::vector<int> values = co_await await_many(tasks, 2s);
    co_return values[0] + values[1] + values[2];
  }

  // Where a handler and the plain function of its task run.
  struct Where {
    std::thread::id thread;
    bool on_pool = false;
  };
  static Where here() {
    return {std::this_thread::get_id(), Scheduler::current_worker() != nullptr};
  }
  Async<std::pair<Where, Where>> threads_of_a_task() {
    const Where caller = here();
    const Where task = co_await async([] { return here(); }).await();
    co_return std::pair{caller, task};
  }

  // Three blocking tasks that each wait for the other two: only run
  // concurrently do they all see three arrivals.
  Async<int> three_at_once(std::shared_ptr<Gate> gate) {
    std::vector<Task<bool>> tasks;
    for (int i = 0; i < 3; ++i)
      tasks.push_back(async(blocking([gate] { return gate->arrive_and_wait(3); })));
    const std::vector<bool> met = co_await await_many(tasks, 10s);
    co_return static_cast<int>(std::count(met.begin(), met.end(), true));
  }

  Async<std::string> await_stuck(std::shared_ptr<Gate> gate) {
    stuck_ = async(blocking([gate] { return gate->arrive_and_wait(1000); }));
    try {
      co_await stuck_.await(50ms);
      co_return "value";
    } catch (const CallError& e) {
      co_return e.kind() == CallError::Kind::timeout ? "timeout" : "other";
    }
  }

  Async<std::string> await_many_stuck(std::shared_ptr<Gate> gate) {
    auto quick = async([] { return true; });
    stuck_ = async(blocking([gate] { return gate->arrive_and_wait(1000); }));
    try {
      std::vector<Task<bool>> tasks = {quick, stuck_};
      co_await await_many(tasks, 50ms);
      co_return "value";
    } catch (const CallError& e) {
      co_return e.kind() == CallError::Kind::timeout ? "timeout" : "other";
    }
  }

  // Starts a task that waits in a call to `slow`, and kills it at once;
  // `down` hears of its end from this thread, which `slow` does not hold.
  void kill_waiting(Server<Slow> slow, std::shared_ptr<Gate> gate, std::shared_ptr<Gate> down) {
    auto waiting = async([slow, gate]() -> Async<bool> {
      co_return co_await slow.call_within(10s, &Slow::wait_at, gate);
    });
    stuck_pid_ = waiting.pid();
    down_ = std::move(down);
    monitor(stuck_pid_);
    waiting.kill();
  }
  void handle_down(MonitorRef, const Pid&, const ExitReason&) {
    if (down_) down_->arrive_and_wait(1);
  }

  // Does not catch the timeout: this server crashes with it.
  Async<bool> await_uncaught(std::shared_ptr<Gate> gate, std::shared_ptr<Pid> task) {
    stuck_ = async(blocking([gate] { return gate->arrive_and_wait(1000); }));
    *task = stuck_.pid();
    co_return co_await stuck_.await(50ms);
  }

  Async<std::string> nolink_stuck(TaskSupervisor sup, std::shared_ptr<Gate> gate,
                                  std::shared_ptr<std::atomic<bool>> finished) {
    stuck_ = sup.async_nolink(blocking([gate, finished] {
      gate->arrive_and_wait(1000);
      *finished = true;
      return true;
    }));
    try {
      co_await stuck_.await(50ms);
      co_return "value";
    } catch (const CallError& e) {
      co_return e.kind() == CallError::Kind::timeout ? "timeout" : "other";
    }
  }

  // Does not await: the link alone brings the crash here.
  void start_crashing_task() {
    async([]() -> int { throw std::runtime_error("task broke"); });
  }

  Async<std::string> await_crashing_task(bool trap) {
    trap_exits(trap);
    return describe(async([]() -> int { throw std::runtime_error("task broke"); }));
  }

  Async<std::string> nolink_crash(TaskSupervisor sup) {
    return describe(sup.async_nolink([]() -> int { throw std::runtime_error("nolink broke"); }));
  }

  static Async<std::string> describe(Task<int> task) {
    try {
      co_await task.await();
      co_return "value";
    } catch (const CallError& e) {
      co_return std::string(e.kind() == CallError::Kind::failed ? "failed: " : "other: ") +
          e.what();
    }
  }

  Async<int> supervised_value(TaskSupervisor sup) {
    auto task = sup.async([] { return 7; });
    co_return co_await task.await();
  }

  void start_supervised_crash(TaskSupervisor sup) {
    sup.async([]() -> int { throw std::runtime_error("linked broke"); });
  }

  void handle_exit(const Pid&, const ExitReason& reason) {
    exits_.push_back(reason.text());
    exit_arrived_->arrive_and_wait(1);
  }
  std::vector<std::string> exits() const { return exits_; }
  // Arrived at once for each exit message.
  std::shared_ptr<Gate> exit_arrived() const { return exit_arrived_; }
  Pid stuck_pid() const { return stuck_.pid() ? stuck_.pid() : stuck_pid_; }

 private:
  Task<bool> stuck_;
  Pid stuck_pid_;
  std::vector<std::string> exits_;
  std::shared_ptr<Gate> exit_arrived_ = std::make_shared<Gate>();
  std::shared_ptr<Gate> down_;
};

bool ended(const Pid& pid) {
  return ends_within(pid);
}

}  // namespace

TEST_CASE("async and await_many give the values in order, plain and Async functions alike") {
  Scheduler scheduler(2);
  auto boss = start<Boss>(scheduler);
  CHECK(boss.call_blocking(&Boss::sum_of_three) == 321);
  CHECK(end_processes({boss.pid()}));
}

TEST_CASE("blocking task functions run concurrently, each on a thread of its own") {
  Scheduler scheduler(1);
  auto boss = start<Boss>(scheduler);
  CHECK(boss.call_blocking(&Boss::three_at_once, std::make_shared<Gate>()) == 3);
  CHECK(end_processes({boss.pid()}));
}

TEST_CASE("a plain task function runs on the pool, on another thread than its caller's") {
  Scheduler scheduler(2);
  auto boss = start<Boss>(scheduler);
  const auto [caller, task] = boss.call_blocking(&Boss::threads_of_a_task);
  CHECK(task.on_pool);
  CHECK(task.thread != caller.thread);
  CHECK(caller.on_pool);
  CHECK(end_processes({boss.pid()}));
}

TEST_CASE("on a pool of one thread a plain task function runs once its caller waits") {
  Scheduler scheduler(1);
  auto boss = start<Boss>(scheduler);
  const auto [caller, task] = boss.call_blocking(&Boss::threads_of_a_task);
  CHECK(task.on_pool);
  CHECK(task.thread == caller.thread);
  CHECK(end_processes({boss.pid()}));
}

// Elixir: "If the task process is linked to the caller process [...] then
// the task process will also exit" only because the caller exits; a caller
// that catches the timeout leaves its task running.
TEST_CASE("a linked task that misses await's timeout runs on while its caller catches it") {
  Scheduler scheduler(2);
  auto gate = std::make_shared<Gate>();
  auto boss = start<Boss>(scheduler);
  CHECK(boss.call_blocking(&Boss::await_stuck, gate) == "timeout");
  const Pid stuck = boss.call_blocking(&Boss::stuck_pid);
  CHECK(stuck.get()->alive());
  gate->open();
  CHECK(ended(stuck));
  CHECK(boss.pid().get()->alive());
  CHECK(end_processes({boss.pid()}));
}

TEST_CASE("a linked task ends with a caller that crashes with await's timeout") {
  Scheduler scheduler(2);
  auto gate = std::make_shared<Gate>();
  auto boss = start<Boss>(scheduler);
  auto task = std::make_shared<Pid>();
  CHECK_THROWS_AS(boss.call_blocking(&Boss::await_uncaught, gate, task), CallError);
  CHECK(ended(boss.pid()));
  CHECK(ended(*task));  // through the link, while its function still waits at the gate
  gate->open();
}

TEST_CASE("an async_nolink task that misses await's timeout runs on to its end") {
  Scheduler scheduler(2);
  auto sup = start_task_supervisor(scheduler);
  auto boss = start<Boss>(scheduler);
  auto gate = std::make_shared<Gate>();
  auto finished = std::make_shared<std::atomic<bool>>(false);
  CHECK(boss.call_blocking(&Boss::nolink_stuck, sup, gate, finished) == "timeout");
  const Pid stuck = boss.call_blocking(&Boss::stuck_pid);
  CHECK(stuck.get()->alive());
  CHECK(sup.children_blocking() == 1);
  // Its exit reaches the supervisor before this watcher's DOWN.
  EndWatcher stuck_end(stuck);
  gate->open();
  CHECK(stuck_end.ended());
  CHECK(*finished);
  CHECK(sup.children_blocking() == 0);
  CHECK(end_processes({boss.pid(), sup.pid()}));
}

TEST_CASE("await_many's timeout leaves the tasks not done running") {
  Scheduler scheduler(2);
  auto gate = std::make_shared<Gate>();
  auto boss = start<Boss>(scheduler);
  CHECK(boss.call_blocking(&Boss::await_many_stuck, gate) == "timeout");
  const Pid stuck = boss.call_blocking(&Boss::stuck_pid);
  CHECK(stuck.get()->alive());
  gate->open();
  CHECK(ended(stuck));
  CHECK(end_processes({boss.pid()}));
}

TEST_CASE("a task waiting in a call is killed at its co_await") {
  Scheduler scheduler(2);  // slow and boss on different threads
  auto slow = start<Slow>(scheduler);
  auto boss = start<Boss>(scheduler);
  auto gate = std::make_shared<Gate>();
  auto down = std::make_shared<Gate>();
  boss.call_blocking(&Boss::kill_waiting, slow, gate, down);
  // Killed while the call still runs on the other server, which holds its
  // thread until the gate opens: the boss, on the other thread, hears of it.
  const Pid stuck = boss.call_blocking(&Boss::stuck_pid);
  REQUIRE(down->wait_arrived());
  CHECK_FALSE(stuck.get()->alive());
  gate->open();
  CHECK(end_processes({slow.pid(), boss.pid()}));
}

TEST_CASE("a crashing task crashes its linked caller") {
  Scheduler scheduler(2);
  auto boss = start<Boss>(scheduler);
  boss.cast(&Boss::start_crashing_task);
  CHECK(ended(boss.pid()));

  auto awaiting = start<Boss>(scheduler);
  // The reply comes first, then the exit signal through the link.
  CHECK(awaiting.call_blocking(&Boss::await_crashing_task, false) == "failed: task broke");
  CHECK(ended(awaiting.pid()));
}

TEST_CASE("a caller that traps exits gets the crash from await and as an exit message") {
  Scheduler scheduler(2);
  auto boss = start<Boss>(scheduler);
  const auto exit_arrived = boss.call_blocking(&Boss::exit_arrived);
  CHECK(boss.call_blocking(&Boss::await_crashing_task, true) == "failed: task broke");
  REQUIRE(exit_arrived->wait_arrived());
  CHECK(boss.call_blocking(&Boss::exits).size() == 1);
  CHECK(boss.call_blocking(&Boss::exits).front() == "error: task broke");
  CHECK(end_processes({boss.pid()}));
}

TEST_CASE("a task awaited from outside the runtime") {
  Scheduler scheduler(2);
  auto task = async(scheduler, [] { return std::string("done"); });
  CHECK(task.await_blocking() == "done");

  auto gate = std::make_shared<Gate>();
  auto stuck = async(scheduler, blocking([gate] { return gate->arrive_and_wait(1000); }));
  CHECK_THROWS_AS(stuck.await_blocking(50ms), CallError);
  CHECK(stuck.pid().get()->alive());  // no caller to link to: it runs on
  gate->open();
  CHECK(ended(stuck.pid()));

  auto once = async(scheduler, [] { return 1; });
  CHECK(once.await_blocking() == 1);
  CHECK_THROWS_AS(once.await_blocking(), std::logic_error);
}

TEST_CASE("async outside a handler is refused: it has no caller to link to") {
  CHECK_THROWS_AS(async([] { return 1; }), std::logic_error);
}

TEST_CASE("task supervisor: async_nolink reports a crash without propagating it") {
  Scheduler scheduler(2);
  auto sup = start_task_supervisor(scheduler);
  auto boss = start<Boss>(scheduler);
  CHECK(boss.call_blocking(&Boss::nolink_crash, sup) == "failed: nolink broke");
  CHECK(boss.pid().get()->alive());
  CHECK(sup.pid().get()->alive());
  CHECK(boss.call_blocking(&Boss::supervised_value, sup) == 7);
  CHECK(end_processes({boss.pid(), sup.pid()}));
}

TEST_CASE("task supervisor: async links the task to the caller too") {
  Scheduler scheduler(2);
  auto sup = start_task_supervisor(scheduler);
  auto boss = start<Boss>(scheduler);
  boss.cast(&Boss::start_supervised_crash, sup);
  CHECK(ended(boss.pid()));
  CHECK(sup.pid().get()->alive());
  CHECK(end_processes({sup.pid()}));
}

TEST_CASE("task supervisor: start_child runs, is forgotten when done, and is shut down on stop") {
  Scheduler scheduler(2);
  auto sup = start_task_supervisor(scheduler);
  // The task runs once it is let go, after this watcher is in place: its
  // exit reaches the supervisor before the watcher's DOWN.
  auto go = std::make_shared<Gate>();
  const Pid quick = sup.start_child(blocking([go] { go->arrive_and_wait(); }));
  EndWatcher quick_end(quick);
  go->open();
  REQUIRE(quick_end.ended());
  CHECK(sup.children_blocking() == 0);

  // A task has asked its supervisor to adopt it before its function runs.
  auto gate = std::make_shared<Gate>();
  const Pid first = sup.start_child(blocking([gate] { gate->arrive_and_wait(1000); }));
  const Pid second = sup.start_child(blocking([gate] { gate->arrive_and_wait(1000); }));
  REQUIRE(gate->wait_arrived(2));
  CHECK(sup.children_blocking() == 2);
  sup.stop();
  CHECK(ended(first));
  CHECK(ended(second));
  CHECK(ended(sup.pid()));
  gate->open();
}
