// The supervisor engine hosted on a runtime process (RuntimeHost): its
// timers are the process's own messages on the runtime's clock, posts from
// other threads arrive in its mailbox, and everything the engine does runs
// on that process's thread — what the runtime's supervisors need to be the
// engine itself.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "engine_world.hpp"
#include "manual_time.hpp"
#include "process_end.hpp"
#include "runtime/child_spec.hpp"
#include "runtime/gen_server.hpp"
#include "runtime/scheduler.hpp"
#include "supervise/engine_process.hpp"
#include "supervise/runtime_host.hpp"
#include "supervise/supervisor.hpp"

using namespace otpd;
using namespace otpd::test;
using namespace std::chrono_literals;
using supervise::EventKind;

namespace {

// What a process notes of its messages, for the test's thread to wait on.
class Notes {
 public:
  std::atomic<bool> abandoned{false};  // the waiter has given up
  void add(std::string note) {
    std::lock_guard lock(mutex_);
    notes_.push_back(std::move(note));
    changed_.notify_all();
  }
  // Waits until `count` notes have come; false after 5 s without them.
  bool wait_for(std::size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 5s, [&] { return notes_.size() >= count; });
  }
  // Waits until `note` has come `times` times.
  bool wait_for(const std::string& note, std::size_t times = 1) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 5s, [&] {
      return static_cast<std::size_t>(std::count(notes_.begin(), notes_.end(), note)) >= times;
    });
  }
  std::vector<std::string> all() {
    std::lock_guard lock(mutex_);
    return notes_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> notes_;
};

// A process that only hosts: tests put work on its thread through the host.
class Hosting : public runtime::Process {
 public:
  Hosting() : host(*this) {}
  supervise::RuntimeHost host;
  // Runs on this process's thread, as a timer or a post must.
  bool on_own_thread() const { return runtime::Process::current() == this; }
};

// Runs `fn` on the process's thread and waits for it to have run.
template <typename Fn>
void on_thread_of(Hosting& process, Fn fn) {
  std::mutex mutex;
  std::condition_variable done_changed;
  bool done = false;
  process.host.post([&] {
    fn();
    std::lock_guard lock(mutex);
    done = true;
    done_changed.notify_all();
  });
  std::unique_lock lock(mutex);
  REQUIRE(done_changed.wait_for(lock, 5s, [&] { return done; }));
}

// A Hosting process on a scheduler of its own, killed (and seen to end) when
// the test is over.
struct HostingWorld {
  explicit HostingWorld(unsigned threads, runtime::TimeSource* time = nullptr)
      : scheduler(threads, {}, time), process(new Hosting) {
    scheduler.start(*process);
    pid = process->self();
  }
  ~HostingWorld() {
    runtime::Process::exit_signal(pid, runtime::ExitReason::killed());
    CHECK(ends_within(pid));
  }
  runtime::Scheduler scheduler;
  Hosting* process;
  runtime::Pid pid;
};

}  // namespace

TEST_CASE("a runtime host's timers fire on the runtime's clock, on the process's thread") {
  ManualTime time;
  HostingWorld world(2, &time);
  Hosting* process = world.process;
  Notes notes;
  std::unique_ptr<supervise::TimerHandle> late, cancelled, early;
  on_thread_of(*process, [&] {
    const auto armed = process->host.now();
    CHECK(armed == time.now());
    late = process->host.start_timer(200ms, [&, armed] {
      notes.add(std::string("late") + (process->on_own_thread() ? "" : " elsewhere"));
      CHECK(process->host.now() - armed >= 200ms);
    });
    cancelled = process->host.start_timer(100ms, [&] { notes.add("cancelled"); });
    early = process->host.start_timer(50ms, [&] {
      notes.add(std::string("early") + (process->on_own_thread() ? "" : " elsewhere"));
    });
  });
  on_thread_of(*process, [&] { cancelled.reset(); });
  time.advance(49ms);
  on_thread_of(*process, [] {});  // anything due has been handled by now
  CHECK(notes.all().empty());
  time.advance(1ms);
  REQUIRE(notes.wait_for(1));
  time.advance(150ms);
  REQUIRE(notes.wait_for(2));
  on_thread_of(*process, [] {});
  CHECK(notes.all() == std::vector<std::string>{"early", "late"});
  on_thread_of(*process, [&] { late.reset(), early.reset(); });
}

TEST_CASE("a timer may drop its own handle when it fires") {
  ManualTime time;
  HostingWorld world(1, &time);
  Hosting* process = world.process;
  Notes notes;
  std::unique_ptr<supervise::TimerHandle> timer;
  auto held = std::make_shared<int>(7);
  std::weak_ptr<int> watch = held;
  on_thread_of(*process, [&] {
    timer = process->host.start_timer(10ms, [&, held = std::move(held)] {
      timer.reset();  // the engine resets its kill timer from inside it
      notes.add("fired " + std::to_string(*held));
    });
  });
  time.advance(10ms);
  REQUIRE(notes.wait_for(1));
  CHECK(notes.all() == std::vector<std::string>{"fired 7"});
  CHECK(watch.expired());  // what the callback held is gone with it
}

TEST_CASE("a cancelled timer lets go of what it holds at once") {
  ManualTime time;
  HostingWorld world(1, &time);
  Hosting* process = world.process;
  auto held = std::make_shared<int>(1);
  std::weak_ptr<int> watch = held;
  on_thread_of(*process,
               [&] { auto timer = process->host.start_timer(1h, [held = std::move(held)] {}); });
  CHECK(watch.expired());
}

TEST_CASE("posts from other threads run on the process's thread, each poster's in order") {
  HostingWorld world(2);
  Hosting* process = world.process;
  Notes notes;
  constexpr int kEach = 200;
  std::vector<int> last_seen(2, -1);
  bool in_order = true;
  bool elsewhere = false;
  std::vector<std::thread> posters;
  for (int poster = 0; poster < 2; ++poster) {
    posters.emplace_back([&, poster] {
      for (int i = 0; i < kEach; ++i) {
        process->host.post([&, poster, i] {
          // Only the process's thread touches these.
          if (!process->on_own_thread()) elsewhere = true;
          if (last_seen[poster] != i - 1) in_order = false;
          last_seen[poster] = i;
          notes.add("");
        });
      }
    });
  }
  for (auto& poster : posters) poster.join();
  REQUIRE(notes.wait_for(2 * kEach));
  on_thread_of(*process, [&] {
    CHECK(in_order);
    CHECK_FALSE(elsewhere);
  });
}

TEST_CASE("a post from the process's own thread runs after its handler, before its next message") {
  HostingWorld world(1);
  Hosting* process = world.process;
  Notes notes;
  on_thread_of(*process, [&] {
    process->self().send(runtime::make_envelope([&](runtime::Process&) { notes.add("message"); }));
    process->host.post([&] {
      notes.add("first post");
      // Posted by posted work: still before the message.
      process->host.post([&] { notes.add("second post"); });
    });
    notes.add("handler");
  });
  REQUIRE(notes.wait_for(4));
  CHECK(notes.all() == std::vector<std::string>{"handler", "first post", "second post", "message"});
}

// --- EngineProcess: the engine's children started by code, linked to it -------------

namespace {

std::size_t count_of(const std::vector<std::string>& notes, const std::string& note) {
  return static_cast<std::size_t>(std::count(notes.begin(), notes.end(), note));
}

// A child started by code: counts its starts, crashes when told, and notes
// whether its terminate ran (it traps exits when asked to).
class Coded : public runtime::GenServer<Coded> {
 public:
  Coded(Notes& notes, std::string name, bool traps)
      : notes_(notes), name_(std::move(name)), traps_(traps) {}
  void init() {
    if (traps_) trap_exits(true);
    notes_.add("init " + name_);
  }
  void terminate(const runtime::ExitReason& reason) {
    notes_.add("terminate " + name_ + " " + reason.text());
  }
  void crash() { throw std::runtime_error("boom"); }

 private:
  Notes& notes_;
  std::string name_;
  bool traps_;
};

struct CodedChildren {
  Notes notes;
  std::mutex mutex;
  std::map<std::string, runtime::Server<Coded>> running;

  supervise::CodeStart start(const std::string& name, bool traps = false, bool linked = true) {
    return [this, name, traps, linked] {
      auto server = linked ? runtime::start_link<Coded>(notes, name, traps)
                           : runtime::start<Coded>(runtime::Process::current()->scheduler(), notes,
                                                   name, traps);
      std::lock_guard lock(mutex);
      running[name] = server;
      return server.pid();
    };
  }
  runtime::Pid pid_of(const std::string& name) {
    std::lock_guard lock(mutex);
    return running.at(name).pid();
  }
  void crash(const std::string& name) {
    std::lock_guard lock(mutex);
    running.at(name).cast(&Coded::crash);
  }
};

// Events as "kind path", with " (elsewhere)" when `engine` is set and one
// came on another thread than its.
class EventNotes final : public supervise::EventSink {
 public:
  void emit(const supervise::Event& event) override {
    const bool elsewhere = engine != nullptr && runtime::Process::current() != engine;
    notes.add(std::string(supervise::to_string(event.kind)) + " " + event.path +
              (elsewhere ? " (elsewhere)" : ""));
    reasons.add(std::string(supervise::to_string(event.kind)) + " " + event.path + ": " +
                event.reason);
  }
  bool hears(supervise::EventKind kind) const override { return !only || kind == *only; }
  std::optional<supervise::EventKind> only;  // the one kind it hears, if set
  Notes notes;
  Notes reasons;  // "kind path: reason"
  const runtime::Process* engine = nullptr;
};

// Starts `engine` linked to a parent of its own, which the test can end.
class Parent : public runtime::GenServer<Parent> {
 public:
  explicit Parent(supervise::EngineProcess* child) : child_(child) {}
  void init() {
    trap_exits(true);
    REQUIRE_FALSE(scheduler().start_link(*child_));
  }

 private:
  supervise::EngineProcess* child_;
};

// A message behind whatever is in the engine's mailbox now (a post from
// its own thread would run before it).
void send_behind(supervise::EngineProcess& engine, std::function<void()> fn) {
  engine.self().send(runtime::make_envelope([fn = std::move(fn)](runtime::Process&) { fn(); }));
}

// Any thread: whether `look(root)` holds on the engine's thread, or comes
// to hold within 5 s. It is looked at again after every other message.
bool holds(supervise::EngineProcess& engine,
           std::function<bool(const supervise::Supervisor&)> look) {
  auto answer = std::make_shared<Notes>();  // outlives a wait given up
  auto again = std::make_shared<std::function<void()>>();
  *again = [&engine, answer, look, again] {
    if (look(engine.root()) || answer->abandoned) {
      answer->add("");
      *again = nullptr;  // undoes the cycle through its own capture
    } else {
      send_behind(engine, *again);
    }
  };
  send_behind(engine, *again);
  if (answer->wait_for(1)) return true;
  answer->abandoned = true;
  return false;
}

}  // namespace

TEST_CASE("an engine process restarts a child its start function links to it") {
  runtime::Scheduler scheduler(2);
  CodedChildren code;
  EventNotes events;
  auto* engine = new supervise::EngineProcess(
      supervisor_spec(config::Strategy::one_for_one,
                      {supervise::code_child("a"), supervise::code_child("b")}),
      {{"a", code.start("a")}, {"b", code.start("b")}}, events);
  events.engine = engine;
  scheduler.start(*engine);
  runtime::Pid pid = engine->self();
  REQUIRE(events.notes.wait_for("started /"));
  const runtime::Pid first = code.pid_of("a");
  code.crash("a");
  REQUIRE(code.notes.wait_for("init a", 2));
  REQUIRE(events.notes.wait_for("started a", 2));
  CHECK_FALSE(code.pid_of("a") == first);
  CHECK(count_of(code.notes.all(), "init b") == 1);
  const auto seen = events.notes.all();
  CHECK(count_of(seen, "exited a") == 1);
  CHECK(count_of(seen, "started b") == 1);
  // Everything the engine did, it did on its own process's thread.
  for (const auto& event : seen) CHECK(event.find("elsewhere") == std::string::npos);
  // Killed, it takes its children with it: nothing it started outlives it.
  EndWatcher a_end(code.pid_of("a")), b_end(code.pid_of("b"));
  runtime::Process::exit_signal(pid, runtime::ExitReason::killed());
  CHECK(ends_within(pid));
  CHECK(a_end.ended());
  CHECK(b_end.ended());
}

TEST_CASE("an engine process stops a child that traps exits as its parent, so terminate runs") {
  runtime::Scheduler scheduler(2);
  CodedChildren code;
  EventNotes events;
  auto* engine = new supervise::EngineProcess(
      supervisor_spec(config::Strategy::one_for_one,
                      {supervise::code_child("a"), supervise::code_child("b")}),
      {{"a", code.start("a", true)}, {"b", code.start("b", true)}}, events);
  runtime::Pid engine_pid = engine->self();
  auto parent_server = runtime::start<Parent>(scheduler, engine);
  REQUIRE(events.notes.wait_for("started /"));
  // Its parent ends: it stops its children, last first, and ends too.
  runtime::Process::exit_signal(parent_server.pid(), runtime::ExitReason::killed());
  CHECK(ends_within(engine_pid));
  REQUIRE(code.notes.wait_for("terminate a shutdown"));
  const auto seen = code.notes.all();
  const auto b_at = std::find(seen.begin(), seen.end(), "terminate b shutdown");
  const auto a_at = std::find(seen.begin(), seen.end(), "terminate a shutdown");
  CHECK(b_at < a_at);
}

TEST_CASE("an engine process whose child cannot start ends, and says why") {
  auto ends_with = [](supervise::CodeStart start, const std::string& why) {
    runtime::Scheduler scheduler(1);
    EventNotes events;
    auto* engine = new supervise::EngineProcess(
        supervisor_spec(config::Strategy::one_for_one, {supervise::code_child("a")}),
        {{"a", std::move(start)}}, events);
    scheduler.start(*engine);
    runtime::Pid pid = engine->self();
    CHECK(ends_within(pid));
    CHECK(events.reasons.wait_for("start_failed a: " + why));
  };
  SUBCASE("it throws") {
    ends_with([]() -> runtime::Pid { throw std::runtime_error("no database"); }, "no database");
  }
  SUBCASE("it throws what is no exception") {
    ends_with([]() -> runtime::Pid { throw 42; },
              "its start function threw something that is not an exception");
  }
  SUBCASE("it starts nothing") {
    ends_with([] { return runtime::Pid(); }, "its start function started nothing");
  }
}

TEST_CASE("an engine process supervises a child its start function did not link") {
  runtime::Scheduler scheduler(2);
  CodedChildren code;
  EventNotes events;
  auto* engine = new supervise::EngineProcess(
      supervisor_spec(config::Strategy::one_for_one, {supervise::code_child("a")}),
      {{"a", code.start("a", false, false)}}, events);
  scheduler.start(*engine);
  runtime::Pid pid = engine->self();
  REQUIRE(events.notes.wait_for("started /"));
  code.crash("a");
  REQUIRE(events.notes.wait_for("started a", 2));
  EndWatcher a_end(code.pid_of("a"));
  runtime::Process::exit_signal(pid, runtime::ExitReason::killed());
  CHECK(ends_within(pid));
  CHECK(a_end.ended());
}

TEST_CASE("an engine process backs off on the runtime's clock") {
  ManualTime time;
  runtime::Scheduler scheduler(2, {}, &time);
  CodedChildren code;
  EventNotes events;
  auto child = supervise::code_child("a");
  child.backoff = config::Backoff{.initial = config::Duration(1000)};
  auto* engine = new supervise::EngineProcess(
      supervisor_spec(config::Strategy::one_for_one, {child}), {{"a", code.start("a")}}, events);
  scheduler.start(*engine);
  runtime::Pid pid = engine->self();
  REQUIRE(events.notes.wait_for("started /"));
  code.crash("a");
  // Its timer is armed in the same handler as the restart time is noted.
  REQUIRE(holds(*engine, [](const supervise::Supervisor& root) {
    return root.child_named("a")->record.restart_at.has_value();
  }));
  time.advance(999ms);
  // Whatever was due has been handled once the engine has answered.
  REQUIRE(holds(*engine, [](const supervise::Supervisor&) { return true; }));
  CHECK(count_of(events.notes.all(), "started a") == 1);
  time.advance(1ms);
  REQUIRE(events.notes.wait_for("started a", 2));
  CHECK(count_of(events.notes.all(), "started a") == 2);
  engine->shut_down_soon(runtime::ExitReason::normal());
  CHECK(ends_within(pid));
}

TEST_CASE("an engine process gives up beyond its intensity, and ends") {
  ManualTime time;
  runtime::Scheduler scheduler(2, {}, &time);
  CodedChildren code;
  EventNotes events;
  auto* engine = new supervise::EngineProcess(
      supervisor_spec(config::Strategy::one_for_one, {supervise::code_child("a")}, 1),
      {{"a", code.start("a")}}, events);
  scheduler.start(*engine);
  runtime::Pid pid = engine->self();
  EndWatcher end(pid);
  REQUIRE(events.notes.wait_for("started /"));
  code.crash("a");
  REQUIRE(events.notes.wait_for("started a", 2));
  code.crash("a");  // the second in 5 s: one too many
  CHECK(end.ended());
  CHECK(count_of(events.notes.all(), "intensity_exceeded /") == 1);
}

TEST_CASE("an engine process tries a restart that failed to start again, and counts each try") {
  ManualTime time;  // never moved: every restart stays in the window
  runtime::Scheduler scheduler(2, {}, &time);
  CodedChildren code;
  EventNotes events;
  auto starts = std::make_shared<std::atomic<int>>(0);
  supervise::CodeStart start_a = [&code, starts, first = code.start("a")] {
    if (starts->fetch_add(1) == 1) throw std::runtime_error("not now");
    return first();
  };
  auto* engine = new supervise::EngineProcess(
      supervisor_spec(config::Strategy::one_for_one, {supervise::code_child("a")}),
      {{"a", start_a}}, events);
  scheduler.start(*engine);
  runtime::Pid pid = engine->self();
  REQUIRE(events.notes.wait_for("started /"));
  code.crash("a");
  REQUIRE(events.notes.wait_for("started a", 2));
  CHECK(starts->load() == 3);
  const auto seen = events.reasons.all();
  const std::vector<std::string> expected = {"exited a: error: boom",
                                             "restarting a: 'a' error: boom",
                                             "starting a: ",
                                             "start_failed a: not now",
                                             "restarting a: retrying the failed start of 'a'",
                                             "starting a: "};
  auto from = std::find(seen.begin(), seen.end(), expected.front());
  REQUIRE(from != seen.end());
  CHECK(std::vector<std::string>(from, from + static_cast<std::ptrdiff_t>(expected.size())) ==
        expected);
  // The restart and its new attempt: two of the three restarts allowed.
  CHECK(
      holds(*engine, [](const supervise::Supervisor& root) { return root.intensity_used() == 2; }));
  engine->shut_down_soon(runtime::ExitReason::normal());
  CHECK(ends_within(pid));
}

// From any thread: adds `spec` to `engine`'s dynamic root, started by
// `start`, and waits for the answer.
supervise::Failure add_to(supervise::EngineProcess& engine, std::string name,
                          supervise::CodeStart start,
                          config::RestartType restart = config::RestartType::permanent) {
  auto answer = std::make_shared<std::promise<supervise::Failure>>();
  auto future = answer->get_future();
  engine.host().post([&engine, answer, name = std::move(name), start = std::move(start), restart] {
    engine.add_child(
        name, start,
        [answer](supervise::Failure failure) { answer->set_value(std::move(failure)); }, restart);
  });
  REQUIRE(future.wait_for(5s) == std::future_status::ready);
  return future.get();
}

TEST_CASE(
    "an engine process's dynamic root adds children, refuses what it must, keeps no failure") {
  runtime::Scheduler scheduler(2);
  CodedChildren code;
  EventNotes events;
  auto spec = supervisor_spec(config::Strategy::one_for_one, {});
  spec.dynamic = true;
  spec.max_children = 2;
  auto* engine = new supervise::EngineProcess(spec, {}, events);
  scheduler.start(*engine);
  runtime::Pid pid = engine->self();
  REQUIRE(events.notes.wait_for("started /"));
  CHECK(add_to(*engine, "a", code.start("a")) == std::nullopt);
  CHECK(add_to(*engine, "a", code.start("a")) == "supervisor / already has a child 'a'");
  CHECK(add_to(*engine, "b", []() -> runtime::Pid { throw std::runtime_error("no room"); }) ==
        "no room");
  // Nothing of the failed one stays: its name is free, and it took no place.
  CHECK(events.notes.wait_for("removed b"));
  CHECK(add_to(*engine, "b", code.start("b")) == std::nullopt);
  CHECK(add_to(*engine, "c", code.start("c")) ==
        "supervisor / already has max_children (2) children");
  CHECK(holds(*engine, [](const supervise::Supervisor& root) { return root.child_count() == 2; }));
  // Its children share one spec; each is known by its own name.
  CHECK(holds(*engine, [](const supervise::Supervisor& root) {
    return root.child_named("a") && root.child_named("b") && !root.child_named("");
  }));
  CHECK(add_to(*engine, "x/y", code.start("x/y")) ==
        "supervisor / cannot have a child named 'x/y'");
  // A run-time child is restarted like any other.
  code.crash("b");
  REQUIRE(code.notes.wait_for("init b", 2));
  engine->shut_down_soon(runtime::ExitReason::normal());
  CHECK(ends_within(pid));
}

TEST_CASE("an engine process whose events nobody hears sends none, and works the same") {
  runtime::Scheduler scheduler(2);
  CodedChildren code;
  EventNotes events;
  events.only = supervise::EventKind::started;
  auto spec = supervisor_spec(config::Strategy::one_for_one, {});
  spec.dynamic = true;
  auto* engine = new supervise::EngineProcess(spec, {}, events);
  scheduler.start(*engine);
  runtime::Pid pid = engine->self();
  REQUIRE(events.notes.wait_for("started /"));
  CHECK(add_to(*engine, "p", code.start("p")) == std::nullopt);
  code.crash("p");
  REQUIRE(code.notes.wait_for("init p", 2));
  // A temporary child that ends is removed with its start function, though
  // no sink hears of the removal: the name is free for another one.
  CHECK(add_to(*engine, "t", code.start("first t"), config::RestartType::temporary) ==
        std::nullopt);
  code.crash("first t");
  CHECK(holds(*engine, [](const supervise::Supervisor& root) { return root.child_count() == 1; }));
  CHECK(add_to(*engine, "t", code.start("second t"), config::RestartType::temporary) ==
        std::nullopt);
  CHECK(code.notes.wait_for("init second t"));
  engine->shut_down_soon(runtime::ExitReason::normal());
  CHECK(ends_within(pid));
  for (const auto& event : events.notes.all()) CHECK(event.rfind("started ", 0) == 0);
  CHECK(count_of(events.notes.all(), "started p") == 2);
}
