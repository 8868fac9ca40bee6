#include "control/event_hub.hpp"

#include <algorithm>

#include "log/event_json.hpp"

namespace otpd::control {

EventHub::EventHub(log::EventLog& log, std::size_t capacity) : log_(log), ring_(capacity) {}

void EventHub::observe(std::function<void(const supervise::Event&)> observer) {
  observers_.push_back(std::move(observer));
}

void EventHub::emit(const supervise::Event& event) {
  for (const auto& observer : observers_) observer(event);
  const std::string time = log::utc_timestamp();
  log_.emit(event, time);
  if (ring_.empty()) return;
  std::string& slot = ring_[next_];
  slot = log::event_json(event, time);
  next_ = (next_ + 1) % ring_.size();
  stored_ = std::min(stored_ + 1, ring_.size());

  // A subscriber may leave (or be dropped) while it is told; its slot is
  // cleared then, and swept once everyone has been told.
  fanning_out_ = true;
  for (std::size_t i = 0; i < subscribers_.size(); ++i) {
    if (subscribers_[i] != nullptr) subscribers_[i]->on_event(slot);
  }
  fanning_out_ = false;
  std::erase(subscribers_, nullptr);
}

void EventHub::recent(std::size_t count, const std::function<void(std::string_view)>& fn) const {
  count = std::min(count, stored_);
  const std::size_t size = ring_.size();
  for (std::size_t k = count; k > 0; --k) fn(ring_[(next_ + size - k) % size]);
}

void EventHub::subscribe(EventSubscriber& subscriber) {
  subscribers_.push_back(&subscriber);
}

void EventHub::unsubscribe(EventSubscriber& subscriber) {
  const auto found = std::find(subscribers_.begin(), subscribers_.end(), &subscriber);
  if (found == subscribers_.end()) return;
  if (fanning_out_) {
    *found = nullptr;
  } else {
    subscribers_.erase(found);
  }
}

std::size_t EventHub::subscribers() const {
  return static_cast<std::size_t>(std::count_if(subscribers_.begin(), subscribers_.end(),
                                                [](auto* s) { return s != nullptr; }));
}

}  // namespace otpd::control
