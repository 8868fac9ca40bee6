#include "runtime/scheduler.hpp"

#include <cxxabi.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cassert>
#include <climits>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <typeinfo>

#include "runtime/envelope.hpp"
#include "runtime/process.hpp"

namespace otpd::runtime {
namespace {

thread_local Worker* this_worker = nullptr;

Process* process_of(QueueNode* node) {
  return static_cast<RunNode*>(node)->process;
}

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected, const timespec* timeout) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, timeout,
          nullptr, 0);
}

void futex_wake(std::atomic<std::uint32_t>& word) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr,
          nullptr, 0);
}

std::string type_name(const Process& process) {
  const char* mangled = typeid(process).name();
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> readable(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
  return status == 0 && readable ? readable.get() : mangled;
}

}  // namespace

// --- Worker --------------------------------------------------------------------

void Worker::loop() {
  this_worker = this;
  while (!stopping.load(std::memory_order_acquire)) {
    const std::uint32_t moves = scheduler.time_moves();
    run_due_timers();
    while (QueueNode* node = remote.pop()) ready.push_back(process_of(node));
    const bool any = !ready.empty();
    if (any) run_ready();
    // A hand-moved clock's mover waits for this: the timers it made due
    // have been handled, one turn each.
    note_first_due();
    if (moves != moves_seen.load(std::memory_order_relaxed)) acknowledge_move(moves);
    if (!any) sleep_until_woken();
  }
  destroy_leftovers();
  this_worker = nullptr;
}

void Worker::run_ready() {
  // One turn for each process that was ready when the turn began.
  for (std::size_t n = ready.size(); n > 0 && !ready.empty(); --n) {
    Process* process = ready.front();
    ready.pop_front();
    if (process->ended_.load(std::memory_order_relaxed)) {
      // Queued by a message its init sent, then ended by that init failing
      // (Scheduler::start_link): already off the live list.
      process->scheduled_.store(false, std::memory_order_seq_cst);
      process->release();
      continue;
    }
    if (!process->started_) adopt(*process);
    const bool timed = slow.limit.count() > 0;
    const Clock::time_point began = timed ? scheduler.turn_clock() : Clock::time_point{};
    const bool more = process->run_batch();
    if (timed) report_if_slow(*process, scheduler.turn_clock() - began);
    if (process->ended_.load(std::memory_order_relaxed) && process->started_) {
      process->scheduled_.store(false, std::memory_order_seq_cst);
      retire(*process);
      process->release();  // the scheduling reference
      continue;
    }
    if (more) {
      ready.push_back(process);  // keeps its scheduling reference
      continue;
    }
    process->scheduled_.store(false, std::memory_order_seq_cst);
    // A message pushed after the batch ended but before the flag was
    // cleared saw the process scheduled and left the wake-up to us.
    if (process->mailbox_.maybe_nonempty() &&
        !process->scheduled_.exchange(true, std::memory_order_seq_cst)) {
      ready.push_back(process);
      continue;
    }
    process->release();
  }
}

bool Worker::run_nested(const std::function<bool()>& done, std::optional<Clock::time_point> until) {
  // The processes in a turn further down this thread's stack keep their
  // place (and their scheduling reference) until the nested run is over.
  std::vector<Process*> held;
  auto hold_busy = [&] {
    std::erase_if(ready, [&](Process* process) {
      if (!process->in_turn_) return false;
      held.push_back(process);
      return true;
    });
  };
  // A deadline is a timer like any other, so that the thread wakes for it
  // (and a hand-moved clock's mover waits for it); it carries no message
  // and fires as a stale reply deadline, which does nothing.
  if (until) add_timer(*Process::current(), *until, nullptr);
  bool met = done();
  while (!met && !stopping.load(std::memory_order_acquire)) {
    const std::uint32_t moves = scheduler.time_moves();
    run_due_timers();
    while (QueueNode* node = remote.pop()) ready.push_back(process_of(node));
    hold_busy();
    const bool any = !ready.empty();
    if (any) run_ready();
    note_first_due();
    if (moves != moves_seen.load(std::memory_order_relaxed)) acknowledge_move(moves);
    met = done();
    if (met || (until && scheduler.now() >= *until)) break;
    if (!any) sleep_until_woken();
  }
  for (Process* process : held) ready.push_back(process);
  return met;
}

void Worker::report_if_slow(Process& process, Clock::duration spent) {
  if (spent < slow.limit || !slow.report) return;
  try {
    slow.report({.process_id = process.id(),
                 .type = type_name(process),
                 .spent = spent,
                 .pid = Pid(&process)});
  } catch (...) {
    // A report that fails is lost; the worker goes on.
  }
}

void Worker::adopt(Process& process) {
  process.live_next_ = live;
  if (live != nullptr) live->live_prev_ = &process;
  live = &process;
  live_count.fetch_add(1, std::memory_order_relaxed);
}

void Worker::retire(Process& process) {
  // Off the live list; the runtime's reference goes with it.
  if (process.live_prev_ != nullptr) process.live_prev_->live_next_ = process.live_next_;
  if (process.live_next_ != nullptr) process.live_next_->live_prev_ = process.live_prev_;
  if (live == &process) live = process.live_next_;
  process.live_prev_ = process.live_next_ = nullptr;
  live_count.fetch_sub(1, std::memory_order_relaxed);
  process.release();
}

void Worker::run_due_timers() {
  if (timers.empty()) return;  // no clock read on a turn without timers
  const auto now = scheduler.now();
  while (!timers.empty() && timers.top().due <= now) {
    Timer timer = timers.top();
    timers.pop();
    Process* process = timer.process;
    if (timer.message != nullptr) {
      process->deliver_or_drop(timer.message);
    } else {
      process->reply_timer_fired(timer.sequence, now);
    }
    process->release();
  }
}

// Published once the timers that fired have been handled, never before:
// until then the mover sees one due and waits.
void Worker::note_first_due() {
  if (scheduler.on_system_time()) return;
  first_due_ns.store(timers.empty() ? std::numeric_limits<std::int64_t>::max()
                                    : timers.top().due.time_since_epoch().count(),
                     std::memory_order_release);
}

// How long a thread with nothing to do looks for work before it sleeps.
// The answer to a call to another thread takes a microsecond or two when
// both threads run, but a futex sleep and wake-up costs 50-200 us on the
// VMs measured (docs/benchmarks.md), and once one side sleeps, the other
// side's wait outlasts its own spin and it sleeps too: every exchange then
// pays a wake-up. So the spin adapts: a sleep that ended soon (work comes
// at short intervals) doubles it, up to kSpinMax; a long sleep halves it,
// down to kSpinMin. Only time that follows work is spent so: an idle pool
// sleeps.
constexpr auto kSpinMin = std::chrono::microseconds(50);
constexpr auto kSpinMax = std::chrono::microseconds(500);

// Looks at the queue between two reads of the clock. A read costs tens of
// nanoseconds on a VM (more than half of a spin went there with 32 looks
// per read, in perf), and work that arrives during one waits for it.
constexpr int kLooksPerClockRead = 512;

// True when work came (a process made runnable, a timer due, a stop).
bool Worker::spin_for_work() {
  if (!scheduler.on_system_time()) return false;
  const auto until = Clock::now() + spin;
  for (;;) {
    // No PAUSE between looks: in a KVM guest a loop of PAUSEs makes the
    // host take the CPU away (pause-loop exiting), which tripled the
    // latency measured here.
    for (int i = 0; i < kLooksPerClockRead; ++i) {
      if (remote.maybe_nonempty() || stopping.load(std::memory_order_relaxed)) return true;
    }
    const auto now = Clock::now();
    if (!timers.empty() && timers.top().due <= now) return true;
    if (now >= until) return false;
  }
}

void Worker::sleep_until_woken() {
  if (spin_for_work()) return;
  const std::uint32_t seen = wake_word.load(std::memory_order_acquire);
  sleeping.store(true, std::memory_order_seq_cst);
  if (remote.maybe_nonempty() || stopping.load(std::memory_order_seq_cst)) {
    sleeping.store(false, std::memory_order_relaxed);
    return;
  }
  timespec timeout{};
  const timespec* bound = nullptr;
  if (!timers.empty()) {
    // Read after `seen`: a hand-moved clock that moves from here on wakes
    // this thread, and one that moved before is seen moved.
    const auto left = timers.top().due - scheduler.now();
    if (left <= Clock::duration::zero()) {
      sleeping.store(false, std::memory_order_relaxed);
      return;
    }
    if (scheduler.on_system_time()) {
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      timeout.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
      timeout.tv_nsec = static_cast<long>(ns % 1'000'000'000);
      bound = &timeout;
    }
  }
  const bool adapt = scheduler.on_system_time();
  const Clock::time_point slept = adapt ? Clock::now() : Clock::time_point{};
  futex_wait(wake_word, seen, bound);
  sleeping.store(false, std::memory_order_relaxed);
  if (adapt) {
    const auto asleep = Clock::now() - slept;
    if (asleep < 2 * spin) {
      spin = std::min<Clock::duration>(2 * spin, kSpinMax);
    } else if (asleep > 2 * kSpinMax) {
      spin = std::max<Clock::duration>(spin / 2, kSpinMin);
    }
  }
}

void Worker::wake() {
  wake_word.fetch_add(1, std::memory_order_release);
  futex_wake(wake_word);
}

void Worker::acknowledge_move(std::uint32_t moves) {
  // Never back: a nested run (run_nested) may have seen a later move than
  // the turn of loop() it ran within.
  if (static_cast<std::int32_t>(moves - moves_seen.load(std::memory_order_relaxed)) <= 0) return;
  moves_seen.store(moves, std::memory_order_release);
  futex_wake(moves_seen);
}

void Worker::wait_for_move(std::uint32_t moves) {
  // Bounded: a handler that holds this thread (a test's gate) delays the
  // timers, not the test forever.
  const auto until = Clock::now() + std::chrono::seconds(5);
  for (;;) {
    const std::uint32_t seen = moves_seen.load(std::memory_order_acquire);
    if (static_cast<std::int32_t>(seen - moves) >= 0) return;
    const auto left = until - Clock::now();
    if (left <= Clock::duration::zero() || stopping.load(std::memory_order_acquire)) return;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    const timespec bound{static_cast<time_t>(ns / 1'000'000'000),
                         static_cast<long>(ns % 1'000'000'000)};
    futex_wait(moves_seen, seen, &bound);
  }
}

void Worker::schedule_remote(Process& process) {
  remote.push(&process.run_node_);
  if (sleeping.load(std::memory_order_seq_cst)) wake();
}

std::uint64_t Worker::add_timer(Process& process, Clock::time_point due, Envelope* message) {
  assert(this == this_worker);
  process.add_ref();
  const std::uint64_t sequence = ++timer_sequence;
  timers.push({due, sequence, &process, message});
  // Lowered at once for a mover to see; raised only by note_first_due.
  if (!scheduler.on_system_time() &&
      due.time_since_epoch().count() < first_due_ns.load(std::memory_order_relaxed)) {
    first_due_ns.store(due.time_since_epoch().count(), std::memory_order_release);
  }
  return sequence;
}

void Worker::destroy_leftovers() {
  // Queued processes hold a scheduling reference each.
  while (QueueNode* node = remote.pop()) ready.push_back(process_of(node));
  for (Process* process : ready) {
    // One that never ran is on no live list: the runtime's reference is
    // only here.
    if (!process->started_) {
      process->ended_.store(true, std::memory_order_release);
      process->release();
    }
    process->release();
  }
  ready.clear();
  while (!timers.empty()) {
    delete timers.top().message;
    timers.top().process->release();
    timers.pop();
  }
  // Processes may hold each other's pids in what they have not handled
  // (two servers each waiting on a call to the other, a message carrying a
  // pid): dropping that first breaks the cycles, and the last release of
  // each, on whichever thread, deletes it.
  while (live != nullptr) {
    Process* process = live;
    live = process->live_next_;
    process->live_prev_ = process->live_next_ = nullptr;
    process->ended_.store(true, std::memory_order_release);
    process->drop_unhandled();
    process->links_.clear();
    process->parent_ = {};
    process->watched_by_.clear();
    process->monitoring_.clear();
    process->release();
  }
  live_count.store(0, std::memory_order_relaxed);
}

// --- Scheduler ---------------------------------------------------------------------

Scheduler::Scheduler(unsigned threads, SlowHandlerPolicy slow, TimeSource* time)
    : slow_(std::move(slow)), time_(time) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < threads; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, *this, slow_));
  }
  for (auto& worker : workers_) worker->thread = std::thread([w = worker.get()] { w->loop(); });
  if (time_ != nullptr) time_subscription_ = time_->subscribe([this] { time_moved(); });
}

// Every thread runs the timers now due before the move returns, so that
// what the mover does next comes after their messages. A thread of this
// scheduler that moved the clock itself (from a handler) runs them after
// its handler.
void Scheduler::time_moved() {
  const std::uint32_t moves = time_moves_.fetch_add(1, std::memory_order_acq_rel) + 1;
  const auto now = time_->now().time_since_epoch().count();
  for (auto& worker : workers_) worker->wake();
  for (auto& worker : workers_) {
    // One with nothing due needs no wait, nor does one held in a handler
    // with nothing due.
    if (worker.get() == this_worker) continue;
    if (worker->first_due_ns.load(std::memory_order_acquire) > now) continue;
    worker->wait_for_move(moves);
  }
}

Scheduler::~Scheduler() {
  if (time_ != nullptr) time_->unsubscribe(time_subscription_);
  for (auto& worker : workers_) {
    worker->stopping.store(true, std::memory_order_seq_cst);
    worker->wake();
  }
  for (auto& worker : workers_) worker->thread.join();
}

Worker* Scheduler::current_worker() {
  return this_worker;
}

std::size_t Scheduler::live_processes() const {
  std::size_t total = 0;
  for (const auto& worker : workers_) total += worker->live_count.load(std::memory_order_relaxed);
  return total;
}

void Scheduler::start(Process& process) {
  Worker* home = this_worker != nullptr && &this_worker->scheduler == this ? this_worker : nullptr;
  if (home == nullptr) {
    home = workers_[next_home_.fetch_add(1, std::memory_order_relaxed) % workers_.size()].get();
  }
  start_on(home, process);
}

void Scheduler::start_beside(Process& process) {
  const auto n = static_cast<unsigned>(workers_.size());
  const unsigned turn = next_home_.fetch_add(1, std::memory_order_relaxed);
  // Another thread than this one: the caller's index plus 1 to n - 1.
  const unsigned index = this_worker != nullptr && &this_worker->scheduler == this && n > 1
                             ? (this_worker->index + 1 + turn % (n - 1)) % n
                             : turn % n;
  start_on(workers_[index].get(), process);
}

void Scheduler::start_on(Worker* home, Process& process) {
  process.scheduler_ = this;
  process.home_ = home;
  // Joining the live list happens on the home thread, as the first thing the
  // process does; until then the scheduling reference keeps it.
  process.scheduled_.store(true, std::memory_order_relaxed);
  process.add_ref();
  if (home == this_worker) {
    home->ready.push_back(&process);
  } else {
    home->schedule_remote(process);
  }
}

std::optional<ExitReason> Scheduler::start_link(Process& child) {
  Process* const parent = Process::current();
  Worker* const home = this_worker;
  if (parent == nullptr || home == nullptr) {
    throw std::logic_error("start_link outside a process: use Scheduler::start");
  }
  child.scheduler_ = this;
  child.home_ = home;
  // Nobody else knows the child yet: its side of the link needs no signal.
  child.parent_ = parent->self();
  child.links_.insert(child.parent_);
  parent->links_.insert(child.self());
  home->adopt(child);
  if (!child.run_start()) {
    parent->links_.erase(child.self());
    child.links_.erase(child.parent_);
    ExitReason reason = std::move(*child.exiting_);
    child.end(reason);
    home->retire(child);
    return reason;
  }
  // Messages (or a continue) that init left for it.
  if ((child.mailbox_.maybe_nonempty() || child.saved_head_ != nullptr) &&
      !child.scheduled_.exchange(true, std::memory_order_seq_cst)) {
    child.add_ref();
    home->ready.push_back(&child);
  }
  return std::nullopt;
}

bool Scheduler::run_here_until(const std::function<bool()>& done,
                               std::optional<Clock::time_point> until) {
  if (this_worker == nullptr || &this_worker->scheduler != this || Process::current() == nullptr) {
    throw std::logic_error("run_here_until outside a handler of this scheduler");
  }
  return this_worker->run_nested(done, until);
}

void Scheduler::schedule(Process& process) {
  process.add_ref();
  Worker* home = process.home_;
  if (home == this_worker) {
    home->ready.push_back(&process);
  } else {
    home->schedule_remote(process);
  }
}

void Scheduler::start_timer(Process& process, Clock::duration delay, Envelope* message) {
  process.home_->add_timer(process, now() + delay, message);
}

}  // namespace otpd::runtime
