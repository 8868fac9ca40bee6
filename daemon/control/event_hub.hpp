// Where the tree's events go: the daemon log, a ring of the most recent ones
// for `events` requests, and every connection following the stream.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "control/fan_out_list.hpp"
#include "log/event_log.hpp"
#include "supervise/event.hpp"

namespace otpd::control {

class EventSubscriber {
 public:
  virtual ~EventSubscriber() = default;
  // `event` is one JSON object (log/event_json.hpp). Called on the event
  // loop; a subscriber must not block, and may unsubscribe from here.
  virtual void on_event(std::string_view event) = 0;
};

class EventHub final : public supervise::EventSink {
 public:
  static constexpr std::size_t kDefaultCapacity = 1000;

  explicit EventHub(log::EventLog& log, std::size_t capacity = kDefaultCapacity);

  void emit(const supervise::Event& event) override;

  // Calls fn with each of the `count` most recent events, oldest first.
  void recent(std::size_t count, const std::function<void(std::string_view)>& fn) const;

  // Parts of otpd that act on events, told before the log: the output hub
  // lets a removed child's buffer go.
  void observe(std::function<void(const supervise::Event&)> observer);

  void subscribe(EventSubscriber& subscriber);
  void unsubscribe(EventSubscriber& subscriber);
  std::size_t subscribers() const;

 private:
  log::EventLog& log_;
  std::vector<std::function<void(const supervise::Event&)>> observers_;
  std::vector<std::string> ring_;  // the oldest event is overwritten first
  std::size_t next_ = 0;           // the slot the next event goes to
  std::size_t stored_ = 0;
  FanOutList<EventSubscriber> subscribers_;
};

}  // namespace otpd::control
