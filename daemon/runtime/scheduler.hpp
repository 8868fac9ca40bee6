// The small thread pool that runs in-process workers. Each worker process
// has a home thread and runs only there, so its state needs no lock; a
// process becomes runnable when a message arrives and drains a batch of
// them per turn. An idle thread sleeps on a futex: no CPU while nothing
// happens. Hops between threads cost tens of microseconds on small VMs, so
// processes are spawned on the spawner's thread and calls between them stay
// there.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "runtime/exit_reason.hpp"
#include "runtime/mpsc_queue.hpp"
#include "runtime/process.hpp"

namespace otpd::runtime {

class Process;

using Clock = std::chrono::steady_clock;

struct Envelope;

struct Timer {
  Clock::time_point due;
  std::uint64_t sequence;  // ties broken in the order they were set
  Process* process;        // holds a reference until it fires
  Envelope* message;       // put in its mailbox when due; null: its reply deadline
  bool operator>(const Timer& other) const {
    return due != other.due ? due > other.due : sequence > other.sequence;
  }
};

// A process that kept its thread longer than the limit in one turn: OTP's
// "don't block a GenServer" pitfall, made visible. Its neighbours on that
// thread waited as long.
struct SlowHandler {
  std::uint64_t process_id = 0;
  std::string type;  // the process's C++ type, demangled
  Clock::duration spent{};
  Pid pid{};  // to find its names, e.g. in a Registry
};

struct SlowHandlerPolicy {
  // Zero: no report, and no clock read per turn.
  std::chrono::milliseconds limit{0};
  // Runs on the worker's thread right after the turn, with the process still
  // alive; it must be quick and must not throw.
  std::function<void(const SlowHandler&)> report{};
};

struct Worker {
  Worker(unsigned index, const SlowHandlerPolicy& slow) : index(index), slow(slow) {}
  void loop();
  void run_ready();
  void run_due_timers();
  void sleep_until_woken();
  void wake();
  void schedule_remote(Process& process);
  // This thread only; holds a reference to `process` until it fires.
  // Returns the timer's sequence number (never 0).
  std::uint64_t add_timer(Process& process, Clock::time_point due, Envelope* message);
  // On and off the list of live processes (this thread only).
  void adopt(Process& process);
  void retire(Process& process);
  void destroy_leftovers();

  void report_if_slow(Process& process, Clock::duration spent);

  const unsigned index;
  const SlowHandlerPolicy& slow;
  std::thread thread;
  std::deque<Process*> ready;  // this thread only
  MpscQueue remote;            // processes made runnable by other threads
  std::atomic<std::uint32_t> wake_word{0};
  std::atomic<bool> sleeping{false};
  std::atomic<bool> stopping{false};
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
  std::uint64_t timer_sequence = 0;
  Process* live = nullptr;                 // every process whose home this is
  std::atomic<std::size_t> live_count{0};  // read by other threads
};

class Scheduler {
 public:
  // `threads` = 0: one per core.
  explicit Scheduler(unsigned threads = 0, SlowHandlerPolicy slow = {});
  // Stops the threads; processes still alive are destroyed without running
  // their terminate hooks (stop them through their supervisors first).
  // What they had not handled goes first, so that pids held only there
  // (a call waiting on another, a queued message) keep nothing alive; a
  // process is freed once no Pid refers to it, and two whose own members
  // hold each other's pids keep each other, as any cycle of counted
  // references does.
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  unsigned threads() const { return static_cast<unsigned>(workers_.size()); }
  // Processes alive now, summed over the threads (approximate while they run).
  std::size_t live_processes() const;

  // Starts a process made with `new` (its refcount is 1, the runtime's):
  // it runs on_start first, on the calling worker's thread when called from
  // one, else on the next thread in turn.
  void start(Process& process);
  // OTP's start_link, from a process's handler: `child` is linked to the
  // running process (its parent()), homed on this thread, and its on_start
  // runs here and now, so that the caller knows whether it started, as
  // start_link waits for init. Returns init's failure: the child has then
  // ended, unlinked, without its exit reaching the parent. No thread hop:
  // a supervisor and its children share a thread.
  std::optional<ExitReason> start_link(Process& child);
  // Makes a process runnable; any thread.
  void schedule(Process& process);
  // Puts `message` in the process's mailbox after `delay` (dropped if the
  // process has ended by then). Only from the process's own thread. A timer
  // is not cancelled: its message checks, on arrival, whether it still
  // matters (see reply_to()).
  void start_timer(Process& process, Clock::duration delay, Envelope* message);

  // The worker whose thread this is, if any.
  static Worker* current_worker();

 private:
  const SlowHandlerPolicy slow_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<unsigned> next_home_{0};
};

}  // namespace otpd::runtime
