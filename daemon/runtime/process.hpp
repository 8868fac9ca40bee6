// An in-process worker as OTP sees one: a mailbox drained by one thread at a
// time, links and monitors, and an exit reason when it ends. gen_server,
// agent, task and supervisor are built on it.
//
// Everything a process does runs on its home thread of the Scheduler; other
// threads only push into its mailbox. A batch of messages is drained per
// wake-up, so a burst of casts costs one scheduling, not one per message.
#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "runtime/envelope.hpp"
#include "runtime/exit_reason.hpp"
#include "runtime/link_set.hpp"

namespace otpd::runtime {

class Process;
class Scheduler;
struct Worker;
template <typename R>
struct ReplyEnvelope;
struct ReplyWaiting;

// A reference to a process that stays valid after it has ended: a message to
// an ended process is dropped (a call to it fails), as in Erlang.
class Pid {
 public:
  Pid() = default;
  explicit Pid(Process* process);  // takes a reference
  Pid(const Pid& other);
  Pid(Pid&& other) noexcept : process_(std::exchange(other.process_, nullptr)) {}
  Pid& operator=(Pid other) noexcept {
    std::swap(process_, other.process_);
    return *this;
  }
  ~Pid();

  Process* get() const { return process_; }
  explicit operator bool() const { return process_ != nullptr; }
  bool operator==(const Pid& other) const { return process_ == other.process_; }
  // Unique for the life of the runtime; 0 for an empty Pid.
  std::uint64_t id() const;

  // Any thread. Takes ownership of `envelope`.
  void send(Envelope* envelope) const;

 private:
  Process* process_ = nullptr;
};

// How a process sits in its home thread's run queue.
struct RunNode : QueueNode {
  Process* process = nullptr;
};

struct MonitorRef {
  std::uint64_t id = 0;
  bool operator==(const MonitorRef&) const = default;
};

class Process {
 public:
  Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  virtual ~Process();

  std::uint64_t id() const { return id_; }
  Pid self() { return Pid(this); }
  // Any thread; a process that is ending may still answer true briefly.
  bool alive() const { return !ended_.load(std::memory_order_acquire); }
  // Set when the process is started (Scheduler::start).
  Scheduler& scheduler() const { return *scheduler_; }

  // Any thread, as process_info's message counts: messages taken out of
  // the mailbox to be handled so far (a stale reply dropped counts too), and
  // those waiting, set-aside ones included. Approximate while messages move;
  // never below 0.
  std::uint64_t messages_handled() const { return handled_.load(std::memory_order_relaxed); }
  std::uint64_t mailbox_length() const {
    const std::uint64_t handled = handled_.load(std::memory_order_relaxed);
    const std::uint64_t received = received_.load(std::memory_order_relaxed);
    return received > handled ? received - handled : 0;
  }

  // The process whose handler runs on this thread, if any.
  static Process* current();

  // Sends an exit signal to `target`, as erlang:exit/2 does: `killed` ends
  // it whatever it does; otherwise a process that traps exits gets a
  // message, `normal` is ignored, and anything else (shutdown too) ends it.
  static void exit_signal(const Pid& target, ExitReason reason, const Pid& from = {});
  // Runs `envelope` before any other message (OTP's handle_continue); only
  // on the process's own thread, from its handlers or what they call.
  void run_next(Envelope* envelope);
  // An exit signal that ends its target does not wait for the messages
  // queued before it: it takes effect at the target's next message
  // boundary (see signals_pending_), as on the BEAM, where a signal is not
  // a message. One that the target traps is a message, in order.

 protected:
  // Hooks, each run on the process's own thread.
  virtual void on_start() {}
  virtual void on_exit_message(const Pid& from, const ExitReason& reason);
  virtual void on_down(MonitorRef ref, const Pid& who, const ExitReason& reason);
  // OTP's terminate: runs when the process ends by itself (exit() from a
  // handler, an exception escaping one), after a successful start. Not when
  // an exit signal ends it: a process that does not trap exits, and any
  // process sent `killed`, ends abruptly, as in Erlang.
  virtual void on_terminate(const ExitReason& reason);
  // Runs at every end, after on_terminate when that ran: for what must be
  // let go of however the process ended (the runtime's own bookkeeping, an
  // owner outside the runtime waiting for the end), as the BEAM frees a
  // dead process's ports and tables. Not a place for OTP-style cleanup.
  virtual void on_ended(const ExitReason& reason);

  // For handlers of this process, on its own thread.
  void exit(ExitReason reason);  // ends it once the current handler returns
  // Ends it as an exit signal does: once the current handler returns, and
  // without on_terminate.
  void exit_abruptly(ExitReason reason);
  void trap_exits(bool on) { trap_exits_ = on; }
  bool traps_exits() const { return trap_exits_; }
  void link(const Pid& other);
  void unlink(const Pid& other);
  // The process that started this one with Scheduler::start_link (its
  // supervisor), if any. A GenServer that traps exits still ends when its
  // parent sends it an exit signal, after terminate, as in OTP.
  const Pid& parent() const { return parent_; }
  MonitorRef monitor(const Pid& other);
  void demonitor(MonitorRef ref);

  // While a handler waits for the reply to call `call_id`, messages other
  // than that reply (and exit signals it does not trap) wait in order.
  void wait_for_reply(unsigned long long call_id) {
    waiting_for_ = call_id;
    reply_deadline_ = {};
  }
  // The same, with a limit: if no reply has come `timeout` from now,
  // `make_timeout(awaiter)` makes the envelope that stands in for it. It is
  // made only then, so an answered call costs no allocation for its
  // timeout, and one timer per process serves a whole run of calls
  // (see reply_timer_fired). The limit is kept on the coarse clock: never
  // early, at most a clock tick (1-4 ms) late.
  using MakeTimeout = Envelope* (*)(void* awaiter);
  void wait_for_reply(unsigned long long call_id, std::chrono::steady_clock::duration timeout,
                      MakeTimeout make_timeout, void* awaiter);
  unsigned long long waiting_for() const { return waiting_for_; }
  void reply_arrived() {
    waiting_for_ = 0;
    reply_deadline_ = {};
  }
  // The handler coroutine suspended in a call, if any: destroyed if the
  // process ends first, which answers its own callers with an error.
  void hold_suspended(std::coroutine_handle<> root) { suspended_ = root; }
  void release_suspended() { suspended_ = {}; }

  // When on, every message but a timer's own notes the time it arrived
  // (for idle timeouts); off, no message pays for a clock read.
  void track_activity(bool on) { track_activity_ = on; }
  std::chrono::steady_clock::time_point last_activity() const { return last_activity_; }

 private:
  friend class Pid;
  friend class Scheduler;
  friend struct Worker;
  friend struct ExitSignal;
  friend struct LinkSignal;
  friend struct UnlinkSignal;
  friend struct MonitorSignal;
  friend struct DemonitorSignal;
  friend struct DownSignal;
  // A call suspends its caller and its reply resumes it.
  template <typename R>
  friend struct ReplyEnvelope;
  friend struct ReplyWaiting;

  void deliver_or_drop(Envelope* envelope);
  // Runs up to one batch of messages; true when more are waiting.
  bool run_batch();
  bool take_next(Envelope*& envelope, bool skip_saved);
  void handle(Envelope* envelope);
  void end(ExitReason reason);
  void add_ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release();

  void received_exit_signal(const Pid& from, ExitReason reason, bool untrappable,
                            bool sender_ended);
  // Runs on_start once, as this process; false if it failed (exiting_ set).
  bool run_start();

  Scheduler* scheduler_ = nullptr;
  Worker* home_ = nullptr;
  const std::uint64_t id_;
  std::atomic<std::uint32_t> refs_{1};  // the runtime's, until the process ends
  std::atomic<bool> scheduled_{false};  // in a run queue, or running
  std::atomic<bool> ended_{false};
  // Set by the senders of exit signals before they are queued, so that a
  // process with a long backlog ends after its current message, not after
  // them all: kKillPending for `killed`, and a count of the other exit
  // signals but `normal` not yet delivered. While the count is not 0 and
  // the process does not trap exits, its messages are set aside unread
  // (as while it waits for a reply) until the signal is reached; one that
  // turns out harmless (a link already undone) lets them be read in order.
  static constexpr std::uint32_t kKillPending = 1u << 31;
  std::atomic<std::uint32_t> signals_pending_{0};
  static void send_exit(const Pid& target, Pid from, ExitReason reason, bool untrappable,
                        bool sender_ended);
  RunNode run_node_;  // for the home worker's run queue
  MpscQueue mailbox_;
  // Beside the mailbox, whose line a sender has just written: one more
  // relaxed add per message.
  std::atomic<std::uint64_t> received_{0};
  // Set aside while waiting for a reply, oldest first; an intrusive list,
  // since a std::deque would cost every idle process half a kilobyte.
  Envelope* saved_head_ = nullptr;
  Envelope* saved_tail_ = nullptr;
  void save(Envelope* envelope);
  // The suspended handler, the mailbox and the saved messages, and with
  // them the pids they hold.
  void drop_unhandled();
  Envelope* take_saved();
  void drop_saved();
  unsigned long long waiting_for_ = 0;
  // With the other fields only the thread running the process writes, away
  // from the senders' line: a plain store, no read-modify-write.
  std::atomic<std::uint64_t> handled_{0};
  void count_handled() {
    handled_.store(handled_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  struct ReplyDeadline {
    std::chrono::steady_clock::time_point due{};
    MakeTimeout make_timeout = nullptr;  // null: no limit
    void* awaiter = nullptr;             // in the suspended caller's frame
  };
  ReplyDeadline reply_deadline_;
  // The one timer entry that stands for this process's reply deadlines:
  // its sequence number (0: none pending) and when it is due. An entry
  // whose number is not this one was superseded by an earlier deadline.
  std::uint64_t reply_timer_sequence_ = 0;
  std::chrono::steady_clock::time_point reply_timer_due_{};
  void arm_reply_timer(std::chrono::steady_clock::time_point due);
  void reply_timer_fired(std::uint64_t sequence, std::chrono::steady_clock::time_point now);

  bool started_ = false;
  bool initialized_ = false;  // on_start returned: only then does on_terminate run, as in OTP
  bool trap_exits_ = false;
  bool abrupt_ = false;  // ended by an exit signal: no on_terminate
  bool track_activity_ = false;
  // A handler of it is under way on its thread (a turn, or its init run by
  // Scheduler::start_link): a nested run of that thread
  // (Scheduler::run_here_until) leaves it alone.
  bool in_turn_ = false;
  std::chrono::steady_clock::time_point last_activity_{};
  std::coroutine_handle<> suspended_{};
  std::optional<ExitReason> exiting_;
  LinkSet<Pid> links_;
  Pid parent_;
  struct Watcher {
    MonitorRef ref;
    Pid watcher;
  };
  std::vector<Watcher> watched_by_;
  std::vector<std::pair<MonitorRef, Pid>> monitoring_;

  Process* live_prev_ = nullptr;  // the home worker's list of live processes
  Process* live_next_ = nullptr;
};

}  // namespace otpd::runtime
