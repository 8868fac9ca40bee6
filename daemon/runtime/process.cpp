#include "runtime/process.hpp"

#include <algorithm>
#include <exception>

#include "runtime/scheduler.hpp"

namespace otpd::runtime {
namespace {

// More messages than this per turn and the process goes to the back of its
// thread's queue, so one busy worker cannot starve its neighbours.
constexpr int kBatch = 256;

std::atomic<std::uint64_t> next_process_id{1};
std::atomic<std::uint64_t> next_monitor_ref{1};
thread_local Process* running_process = nullptr;

}  // namespace

// --- signals between processes ----------------------------------------------
// Links, monitors and exits travel as messages, so that each process's
// links and watchers are only ever touched by its own thread. Dropped
// undelivered (the receiver has ended), each answers as Erlang does for a
// process that no longer exists.

// `sender_ended`: the sender has ended (the signal travels along a link),
// so the link is gone; an exit signal sent by a living process (exit/2)
// leaves the link in place, and the receiver's own end still reports back.
struct ExitSignal final : Envelope {
  ExitSignal(Pid from, ExitReason reason, bool untrappable, bool sender_ended)
      : from(std::move(from)),
        reason(std::move(reason)),
        untrappable(untrappable),
        sender_ended(sender_ended) {}
  void deliver(Process& receiver) override {
    if (counted) receiver.signals_pending_.fetch_sub(1, std::memory_order_relaxed);
    receiver.received_exit_signal(from, reason, untrappable, sender_ended);
  }
  bool is_signal() const override { return true; }
  bool is_exit() const override { return true; }
  Pid from;
  ExitReason reason;
  bool untrappable;
  bool sender_ended;
  bool counted = false;  // in the receiver's signals_pending_
};

struct LinkSignal final : Envelope {
  explicit LinkSignal(Pid from) : from(std::move(from)) {}
  void deliver(Process& receiver) override { receiver.links_.insert(from); }
  bool is_signal() const override { return true; }
  ~LinkSignal() override {
    if (!delivered && from) Process::send_exit(from, target, ExitReason::noproc(), false, true);
  }
  Pid from;
  Pid target;
};

struct UnlinkSignal final : Envelope {
  explicit UnlinkSignal(Pid from) : from(std::move(from)) {}
  void deliver(Process& receiver) override { receiver.links_.erase(from); }
  bool is_signal() const override { return true; }
  Pid from;
};

struct DownSignal final : Envelope {
  DownSignal(MonitorRef ref, Pid who, ExitReason reason)
      : ref(ref), who(std::move(who)), reason(std::move(reason)) {}
  void deliver(Process& receiver) override {
    // A monitor taken back meanwhile reports nothing (demonitor's flush).
    auto& mine = receiver.monitoring_;
    const auto found =
        std::find_if(mine.begin(), mine.end(), [this](const auto& m) { return m.first == ref; });
    if (found == mine.end()) return;
    mine.erase(found);
    receiver.on_down(ref, who, reason);
  }
  MonitorRef ref;
  Pid who;
  ExitReason reason;
};

struct MonitorSignal final : Envelope {
  MonitorSignal(MonitorRef ref, Pid watcher) : ref(ref), watcher(std::move(watcher)) {}
  void deliver(Process& receiver) override {
    receiver.watched_by_.push_back({ref, std::move(watcher)});
  }
  bool is_signal() const override { return true; }
  ~MonitorSignal() override {
    if (!delivered && watcher) {
      watcher.send(new DownSignal(ref, target, ExitReason::noproc()));
    }
  }
  MonitorRef ref;
  Pid watcher;
  Pid target;
};

struct DemonitorSignal final : Envelope {
  explicit DemonitorSignal(MonitorRef ref) : ref(ref) {}
  void deliver(Process& receiver) override {
    std::erase_if(receiver.watched_by_, [this](const auto& w) { return w.ref == ref; });
  }
  bool is_signal() const override { return true; }
  MonitorRef ref;
};

// --- Pid ------------------------------------------------------------------------

Pid::Pid(Process* process) : process_(process) {
  if (process_ != nullptr) process_->add_ref();
}

Pid::Pid(const Pid& other) : process_(other.process_) {
  if (process_ != nullptr) process_->add_ref();
}

Pid::~Pid() {
  if (process_ != nullptr) process_->release();
}

std::uint64_t Pid::id() const {
  return process_ != nullptr ? process_->id() : 0;
}

void Pid::send(Envelope* envelope) const {
  if (process_ == nullptr) {
    delete envelope;
    return;
  }
  process_->deliver_or_drop(envelope);
}

// --- Process ----------------------------------------------------------------------

Process::Process() : id_(next_process_id.fetch_add(1, std::memory_order_relaxed)) {
  run_node_.process = this;
}

Process::~Process() {
  drop_unhandled();
}

void Process::drop_unhandled() {
  if (suspended_) std::exchange(suspended_, {}).destroy();
  reply_deadline_ = {};
  // Messages that arrived after the end: their senders learn of it now.
  while (QueueNode* node = mailbox_.pop()) delete static_cast<Envelope*>(node);
  drop_saved();
}

void Process::save(Envelope* envelope) {
  envelope->next.store(nullptr, std::memory_order_relaxed);
  if (saved_tail_ == nullptr) {
    saved_head_ = saved_tail_ = envelope;
  } else {
    saved_tail_->next.store(envelope, std::memory_order_relaxed);
    saved_tail_ = envelope;
  }
}

Envelope* Process::take_saved() {
  Envelope* envelope = saved_head_;
  if (envelope == nullptr) return nullptr;
  saved_head_ = static_cast<Envelope*>(envelope->next.load(std::memory_order_relaxed));
  if (saved_head_ == nullptr) saved_tail_ = nullptr;
  return envelope;
}

void Process::drop_saved() {
  while (Envelope* envelope = take_saved()) delete envelope;
}

void Process::wait_for_reply(unsigned long long call_id,
                             std::chrono::steady_clock::duration timeout, MakeTimeout make_timeout,
                             void* awaiter) {
  waiting_for_ = call_id;
  reply_deadline_ = {scheduler_->deadline(timeout), make_timeout, awaiter};
  if (reply_timer_sequence_ == 0 || reply_deadline_.due < reply_timer_due_) {
    arm_reply_timer(reply_deadline_.due);
  }
}

void Process::arm_reply_timer(std::chrono::steady_clock::time_point due) {
  reply_timer_sequence_ = home_->add_timer(*this, due, nullptr);
  reply_timer_due_ = due;
}

void Process::reply_timer_fired(std::uint64_t sequence, std::chrono::steady_clock::time_point now) {
  if (sequence != reply_timer_sequence_) return;
  reply_timer_sequence_ = 0;
  // A reply that came in time cleared the deadline; a later call's
  // deadline is further on, and the timer moves there.
  if (ended_.load(std::memory_order_relaxed) || reply_deadline_.make_timeout == nullptr) return;
  if (reply_deadline_.due > now) {
    arm_reply_timer(reply_deadline_.due);
    return;
  }
  Envelope* timeout = reply_deadline_.make_timeout(reply_deadline_.awaiter);
  reply_deadline_ = {};
  deliver_or_drop(timeout);
}

void Process::run_next(Envelope* envelope) {
  envelope->next.store(saved_head_, std::memory_order_relaxed);
  saved_head_ = envelope;
  if (saved_tail_ == nullptr) saved_tail_ = envelope;
}

Process* Process::current() {
  return running_process;
}

void Process::release() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

void Process::deliver_or_drop(Envelope* envelope) {
  if (ended_.load(std::memory_order_acquire)) {
    delete envelope;
    return;
  }
  received_.fetch_add(1, std::memory_order_relaxed);
  mailbox_.push(envelope);
  // Dekker with run_batch's end: either this sees the process still
  // scheduled (and it will see the message), or it schedules it.
  if (!scheduled_.load(std::memory_order_seq_cst) &&
      !scheduled_.exchange(true, std::memory_order_seq_cst)) {
    scheduler_->schedule(*this);
  }
}

bool Process::take_next(Envelope*& envelope, bool skip_saved) {
  if (!skip_saved && waiting_for_ == 0 && saved_head_ != nullptr) {
    envelope = take_saved();
    return true;
  }
  QueueNode* node = mailbox_.pop();
  if (node == nullptr) return false;
  envelope = static_cast<Envelope*>(node);
  return true;
}

bool Process::run_start() {
  Process* const caller = std::exchange(running_process, this);
  const bool in_turn = std::exchange(in_turn_, true);
  started_ = true;
  try {
    on_start();
  } catch (const std::exception& e) {
    exit(ExitReason::error(e.what()));
  } catch (...) {
    exit(ExitReason::error("unknown exception"));
  }
  running_process = caller;
  in_turn_ = in_turn;
  initialized_ = !exiting_;
  return initialized_;
}

bool Process::run_batch() {
  in_turn_ = true;
  if (!started_) run_start();
  // A turn may run within another's handler (Scheduler::run_here_until).
  Process* const caller = std::exchange(running_process, this);
  for (int n = 0; n < kBatch && !exiting_; ++n) {
    const std::uint32_t pending = signals_pending_.load(std::memory_order_relaxed);
    if ((pending & kKillPending) != 0) {
      exit_abruptly(ExitReason::killed());
      break;
    }
    // An exit signal that will end this process is on its way: go to it.
    const bool hurry = pending != 0 && !trap_exits_;
    Envelope* envelope = nullptr;
    if (!take_next(envelope, hurry)) break;
    const unsigned long long reply_to = envelope->reply_to();
    if (reply_to != 0 && reply_to != waiting_for_) {
      delete envelope;  // the reply (or timeout) of a call that is over
      count_handled();
      continue;
    }
    if ((waiting_for_ != 0 || hurry) && reply_to == 0 &&
        !(envelope->is_signal() && !(trap_exits_ && envelope->is_exit()))) {
      save(envelope);
      continue;
    }
    count_handled();  // taken out of the mailbox, as process_info counts
    handle(envelope);
  }
  running_process = caller;
  if (exiting_) {
    end(std::move(*exiting_));
    in_turn_ = false;
    return false;
  }
  in_turn_ = false;
  return mailbox_.maybe_nonempty() || (waiting_for_ == 0 && saved_head_ != nullptr);
}

void Process::handle(Envelope* envelope) {
  if (track_activity_ && envelope->is_activity()) {
    last_activity_ = scheduler_->now();
  }
  try {
    envelope->delivered = true;
    envelope->deliver(*this);
  } catch (const std::exception& e) {
    exit(ExitReason::error(e.what()));
  } catch (...) {
    exit(ExitReason::error("unknown exception"));
  }
  delete envelope;
}

void Process::exit(ExitReason reason) {
  if (!exiting_) exiting_.emplace(std::move(reason));
}

void Process::exit_abruptly(ExitReason reason) {
  if (exiting_) return;
  exiting_.emplace(std::move(reason));
  abrupt_ = true;
}

void Process::end(ExitReason reason) {
  Process* const caller = std::exchange(running_process, this);
  try {
    if (initialized_ && !abrupt_) on_terminate(reason);
  } catch (...) {
    // The process is ending with `reason` already; terminate's own failure
    // must not change what its links and monitors are told.
  }
  try {
    on_ended(reason);
  } catch (...) {
  }
  if (suspended_) std::exchange(suspended_, {}).destroy();
  reply_deadline_ = {};  // its awaiter was in the frame just destroyed
  running_process = caller;
  parent_ = {};  // a parent holding its children's Pids would otherwise never be freed
  ended_.store(true, std::memory_order_release);
  const Pid me(this);
  links_.drain([&](const Pid& linked) { send_exit(linked, me, reason, false, true); });
  for (const Watcher& w : std::exchange(watched_by_, {})) {
    w.watcher.send(new DownSignal(w.ref, me, reason));
  }
  drop_saved();
  while (QueueNode* node = mailbox_.pop()) delete static_cast<Envelope*>(node);
}

void Process::received_exit_signal(const Pid& from, ExitReason reason, bool untrappable,
                                   bool sender_ended) {
  if (sender_ended) {
    // The link was undone meanwhile (unlink): its exit signal is dropped,
    // as in Erlang.
    if (!links_.contains(from)) return;
    links_.erase(from);
  }
  if (untrappable) {
    exit_abruptly(ExitReason::killed());
    return;
  }
  if (trap_exits_) {
    on_exit_message(from, reason);
    return;
  }
  // Only `normal` is harmless: shutdown, like any other reason, ends a
  // process that does not trap exits.
  if (reason.kind() == ExitReason::Kind::normal) return;
  exit_abruptly(std::move(reason));
}

void Process::on_exit_message(const Pid&, const ExitReason&) {}

void Process::on_down(MonitorRef, const Pid&, const ExitReason&) {}

void Process::on_terminate(const ExitReason&) {}

void Process::on_ended(const ExitReason&) {}

void Process::exit_signal(const Pid& target, ExitReason reason, const Pid& from) {
  const bool untrappable = reason.kind() == ExitReason::Kind::killed;
  send_exit(target, from, std::move(reason), untrappable, false);
}

void Process::send_exit(const Pid& target, Pid from, ExitReason reason, bool untrappable,
                        bool sender_ended) {
  if (!target) return;
  auto* signal = new ExitSignal(std::move(from), std::move(reason), untrappable, sender_ended);
  auto& pending = target.get()->signals_pending_;
  if (untrappable) {
    pending.fetch_or(kKillPending, std::memory_order_relaxed);
  } else if (signal->reason.kind() != ExitReason::Kind::normal) {
    signal->counted = true;
    pending.fetch_add(1, std::memory_order_relaxed);
  }
  target.send(signal);
}

void Process::link(const Pid& other) {
  if (!other || other.get() == this) return;
  if (links_.contains(other)) return;
  links_.insert(other);
  auto* signal = new LinkSignal(self());
  signal->target = other;
  other.send(signal);
}

void Process::unlink(const Pid& other) {
  links_.erase(other);
  other.send(new UnlinkSignal(self()));
}

MonitorRef Process::monitor(const Pid& other) {
  const MonitorRef ref{next_monitor_ref.fetch_add(1, std::memory_order_relaxed)};
  monitoring_.emplace_back(ref, other);
  auto* signal = new MonitorSignal(ref, self());
  signal->target = other;
  if (other) {
    other.send(signal);
  } else {
    delete signal;  // reports noproc
  }
  return ref;
}

void Process::demonitor(MonitorRef ref) {
  const auto found = std::find_if(monitoring_.begin(), monitoring_.end(),
                                  [ref](const auto& m) { return m.first == ref; });
  if (found == monitoring_.end()) return;
  found->second.send(new DemonitorSignal(ref));
  monitoring_.erase(found);
}

}  // namespace otpd::runtime
