// The listeners of one kind of news, any of whom may leave (or be dropped)
// while the news is being told: the leaver's slot is cleared then and swept
// once everyone has been told, so that telling never walks a changed list.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace otpd::control {

template <typename Listener>
class FanOutList {
 public:
  void join(Listener& listener) {
    listeners_.push_back(&listener);
    ++present_;
  }

  void leave(Listener& listener) {
    const auto found = std::find(listeners_.begin(), listeners_.end(), &listener);
    if (found == listeners_.end()) return;
    --present_;
    if (telling_) {
      *found = nullptr;
    } else {
      listeners_.erase(found);
    }
  }

  // `tell(listener)` for each listener; those who join meanwhile are told too.
  template <typename Tell>
  void tell_each(Tell tell) {
    telling_ = true;
    for (std::size_t i = 0; i < listeners_.size(); ++i) {
      if (listeners_[i] != nullptr) tell(*listeners_[i]);
    }
    telling_ = false;
    std::erase(listeners_, nullptr);
  }

  // Counted, not searched: every event asks whether anyone listens.
  std::size_t size() const { return present_; }
  bool empty() const { return size() == 0; }

 private:
  std::vector<Listener*> listeners_;  // nullptr: left while being told
  bool telling_ = false;
  std::size_t present_ = 0;  // the listeners_ that are not nullptr
};

}  // namespace otpd::control
