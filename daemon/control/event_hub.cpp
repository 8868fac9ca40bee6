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

  subscribers_.tell_each([&slot](EventSubscriber& subscriber) { subscriber.on_event(slot); });
}

void EventHub::recent(std::size_t count, const std::function<void(std::string_view)>& fn) const {
  count = std::min(count, stored_);
  const std::size_t size = ring_.size();
  for (std::size_t k = count; k > 0; --k) fn(ring_[(next_ + size - k) % size]);
}

void EventHub::subscribe(EventSubscriber& subscriber) {
  subscribers_.join(subscriber);
}

void EventHub::unsubscribe(EventSubscriber& subscriber) {
  subscribers_.leave(subscriber);
}

std::size_t EventHub::subscribers() const {
  return subscribers_.size();
}

}  // namespace otpd::control
