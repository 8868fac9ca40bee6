// The small thread pool that runs in-process workers. Each worker process
// has a home thread and runs only there, so its state needs no lock; a
// process becomes runnable when a message arrives and drains a batch of
// them per turn. A thread with nothing to do spins for a few microseconds,
// so that a reply from another thread is taken without a futex sleep and
// wake-up (tens of microseconds on a small VM), then sleeps on a futex: no
// CPU while nothing happens. Processes are spawned on the spawner's thread
// and calls between them stay there.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "runtime/coarse_clock.hpp"
#include "runtime/exit_reason.hpp"
#include "runtime/mpsc_queue.hpp"
#include "runtime/process.hpp"
#include "runtime/time_source.hpp"

namespace otpd::runtime {

class Process;
class Scheduler;

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
  Worker(unsigned index, const Scheduler& scheduler, const SlowHandlerPolicy& slow)
      : index(index), scheduler(scheduler), slow(slow) {}
  void loop();
  void run_ready();
  // A turn of loop() from within a handler: see Scheduler::run_here_until.
  bool run_nested(const std::function<bool()>& done, std::optional<Clock::time_point> until);
  void run_due_timers();
  bool spin_for_work();
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
  // After the timers due at the `moves`-th move of a hand-moved clock ran.
  void acknowledge_move(std::uint32_t moves);
  // The mover's side: waits (within a bound) until this worker has.
  void wait_for_move(std::uint32_t moves);

  const unsigned index;
  const Scheduler& scheduler;
  const SlowHandlerPolicy& slow;
  std::thread thread;
  std::deque<Process*> ready;  // this thread only
  // What other threads touch to hand this one work, on cache lines of their
  // own: a sender's push and its look at `sleeping` cost no line that this
  // thread's own bookkeeping keeps taking back.
  alignas(64) MpscQueue remote;  // processes made runnable by other threads
  std::atomic<std::uint32_t> wake_word{0};
  std::atomic<bool> sleeping{false};
  std::atomic<bool> stopping{false};
  alignas(64) char after_shared_ = 0;
  // How long to look for work before sleeping (see spin_for_work).
  Clock::duration spin = std::chrono::microseconds(100);
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
  std::uint64_t timer_sequence = 0;
  Process* live = nullptr;                   // every process whose home this is
  std::atomic<std::size_t> live_count{0};    // read by other threads
  std::atomic<std::uint32_t> moves_seen{0};  // of a hand-moved clock: see acknowledge_move
  // When this thread's first timer is due (nanoseconds of the runtime's
  // clock; max: none), for a mover of a hand-moved clock to know whether to
  // wait for it: it stays at a timer that fired until that timer has been
  // handled. Written by this thread only.
  std::atomic<std::int64_t> first_due_ns{std::numeric_limits<std::int64_t>::max()};
  void note_first_due();
};

class Scheduler {
 public:
  // `threads` = 0: one per core. `time`: where the runtime reads the time,
  // the system's steady clock when null; it must outlive the scheduler.
  explicit Scheduler(unsigned threads = 0, SlowHandlerPolicy slow = {}, TimeSource* time = nullptr);
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
  // The same on a thread other than the caller's when there is one (the
  // next in turn), for work meant to run beside its starter: a task's
  // plain function.
  void start_beside(Process& process);
  // OTP's start_link, from a process's handler: `child` is linked to the
  // running process (its parent()), homed on this thread, and its on_start
  // runs here and now, so that the caller knows whether it started, as
  // start_link waits for init. Returns init's failure: the child has then
  // ended, unlinked, without its exit reaching the parent. No thread hop:
  // a supervisor and its children share a thread.
  std::optional<ExitReason> start_link(Process& child);
  // From a handler, for a start that must wait for processes of its own
  // thread, as OTP's start_link waits for init: a supervisor whose init
  // failed waits for the children it had started to end. Runs this thread's
  // other processes and timers until `done()` holds or the runtime's clock
  // reaches `until`, and says whether `done()` came. The processes whose
  // handlers are under way on this thread (the caller, and whoever started
  // it with start_link) are not run meanwhile: their messages wait.
  bool run_here_until(const std::function<bool()>& done,
                      std::optional<Clock::time_point> until = std::nullopt);
  // Makes a process runnable; any thread.
  void schedule(Process& process);
  // Puts `message` in the process's mailbox after `delay` (dropped if the
  // process has ended by then). Only from the process's own thread. A timer
  // is not cancelled: its message checks, on arrival, whether it still
  // matters (see reply_to()).
  void start_timer(Process& process, Clock::duration delay, Envelope* message);

  // The worker whose thread this is, if any.
  static Worker* current_worker();

  // The runtime's time: what timers, deadlines and intensity windows read.
  Clock::time_point now() const { return time_ != nullptr ? time_->now() : Clock::now(); }
  // `after` from now, never early. On the system clock it is read from the
  // coarse clock, a few nanoseconds instead of tens, at most a tick late.
  Clock::time_point deadline(Clock::duration after) const {
    return time_ != nullptr ? time_->now() + after : coarse_deadline(after);
  }
  // For timing a turn of a handler: the coarse clock on the system's time.
  Clock::time_point turn_clock() const { return time_ != nullptr ? time_->now() : coarse_now(); }
  // Whether threads sleep by the system clock until their next timer; on a
  // hand-moved clock they sleep until it moves.
  bool on_system_time() const { return time_ == nullptr; }
  std::uint32_t time_moves() const { return time_moves_.load(std::memory_order_acquire); }

 private:
  void time_moved();

  void start_on(Worker* home, Process& process);

  const SlowHandlerPolicy slow_;
  TimeSource* const time_;
  std::uint64_t time_subscription_ = 0;
  std::atomic<std::uint32_t> time_moves_{0};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<unsigned> next_home_{0};
};

}  // namespace otpd::runtime
