// A first-in first-out queue over one vector: a supervisor's mailbox holds
// a message or two at a time, and a deque would allocate a block for each
// (its blocks hold one or two messages of this size and are freed as the
// queue empties). The vector's storage stays for the next message.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace otpd::supervise {

template <typename T>
class Fifo {
 public:
  bool empty() const { return head_ == items_.size(); }
  std::size_t size() const { return items_.size() - head_; }

  void push_back(T item) { items_.push_back(std::move(item)); }

  T take_front() {
    T item = std::move(items_[head_++]);
    if (head_ == items_.size()) {
      clear();
    } else if (head_ >= kCompactAfter && head_ * 2 >= items_.size()) {
      // A queue that never empties must not keep its taken slots forever.
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    return item;
  }

  void clear() {
    items_.clear();
    head_ = 0;
  }

  auto begin() { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  auto end() { return items_.end(); }

 private:
  static constexpr std::size_t kCompactAfter = 32;
  std::vector<T> items_;
  std::size_t head_ = 0;
};

}  // namespace otpd::supervise
