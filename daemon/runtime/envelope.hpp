// A message in a worker's mailbox. What it does on arrival is its own
// business (a cast runs a closure on the worker's state, a reply resumes a
// caller), so the mailbox needs no knowledge of message types.
#pragma once

#include <cstddef>
#include <utility>

#include "runtime/envelope_pool.hpp"
#include "runtime/mpsc_queue.hpp"

namespace otpd::runtime {

class Process;

struct Envelope : QueueNode {
  Envelope() = default;
  Envelope(const Envelope&) = delete;
  Envelope& operator=(const Envelope&) = delete;
  virtual ~Envelope() = default;
  // Every message comes from the envelope pool (envelope_pool.hpp); the
  // virtual destructor hands the right size back.
  static void* operator new(std::size_t size) { return allocate_envelope(size); }
  static void operator delete(void* block, std::size_t size) noexcept {
    free_envelope(block, size);
  }
  // Runs on the receiver's thread, as the receiver.
  virtual void deliver(Process& receiver) = 0;
  // A reply to the call `call_id`, for a caller waiting on it: 0 otherwise.
  virtual unsigned long long reply_to() const { return 0; }
  // Links, monitors and exits act even while the receiver waits for a
  // reply; an exit signal it traps becomes an ordinary message.
  virtual bool is_signal() const { return false; }
  virtual bool is_exit() const { return false; }
  // False for a timer's own message, which must not count as activity.
  virtual bool is_activity() const { return true; }

  // Set just before deliver(): an envelope destroyed without it was dropped
  // because the receiver had ended, which some answer for (a call fails).
  bool delivered = false;
};

// A closure as a message: `fn(receiver)`.
template <typename Fn>
struct FunctionEnvelope final : Envelope {
  explicit FunctionEnvelope(Fn fn) : fn(std::move(fn)) {}
  void deliver(Process& receiver) override { fn(receiver); }
  Fn fn;
};

template <typename Fn>
Envelope* make_envelope(Fn&& fn) {
  return new FunctionEnvelope<std::decay_t<Fn>>(std::forward<Fn>(fn));
}

}  // namespace otpd::runtime
