// The mailbox under every in-process worker: many threads push, the one
// thread that runs the worker pops. Intrusive (the message is the node), so
// a send is one allocation and one atomic exchange, and draining a batch
// takes no lock. Dmitry Vyukov's non-blocking MPSC queue.
#pragma once

#include <atomic>

namespace otpd::runtime {

struct QueueNode {
  std::atomic<QueueNode*> next{nullptr};
};

class MpscQueue {
 public:
  MpscQueue() = default;
  MpscQueue(const MpscQueue&) = delete;
  MpscQueue& operator=(const MpscQueue&) = delete;

  // Any thread. seq_cst, so that a sender's later look at the receiver's
  // state cannot be ordered before it (see Process::wake_for_message).
  void push(QueueNode* node) noexcept {
    node->next.store(nullptr, std::memory_order_relaxed);
    QueueNode* previous = head_.exchange(node, std::memory_order_seq_cst);
    previous->next.store(node, std::memory_order_release);
  }

  // The consumer only. nullptr when empty, and also, briefly, while a push
  // is half done; that pusher then wakes the consumer (see Process).
  QueueNode* pop() noexcept {
    QueueNode* tail = tail_;
    QueueNode* next = tail->next.load(std::memory_order_acquire);
    if (tail == &stub_) {
      if (next == nullptr) return nullptr;
      tail_ = next;
      tail = next;
      next = next->next.load(std::memory_order_acquire);
    }
    if (next != nullptr) {
      tail_ = next;
      return tail;
    }
    if (tail != head_.load(std::memory_order_acquire)) return nullptr;
    push(&stub_);
    next = tail->next.load(std::memory_order_acquire);
    if (next == nullptr) return nullptr;
    tail_ = next;
    return tail;
  }

  // The consumer only: whether anything has been pushed that pop() has not
  // returned (including a push in progress).
  bool maybe_nonempty() const noexcept {
    return tail_ != &stub_ || head_.load(std::memory_order_seq_cst) != &stub_;
  }

 private:
  std::atomic<QueueNode*> head_{&stub_};
  QueueNode* tail_ = &stub_;
  QueueNode stub_;
};

}  // namespace otpd::runtime
