// What the events of in-process workers said last, for `otpctl status` and
// the page: a health check's probes, a cron job's runs. The workers run on
// their own threads; their events are the loop's view of them.
#pragma once

#include <string>
#include <unordered_map>

#include "supervise/event.hpp"
#include "supervise/status.hpp"

namespace otpd::control {

class WorkerStates {
 public:
  // From the event hub's observers; `time` as events carry it.
  void observe(const supervise::Event& event, const std::string& time);
  // Fills in `health` and `cron` of the workers at and below `node`.
  void annotate(supervise::NodeStatus& node) const;

 private:
  struct State {
    std::string health;
    std::string cron;
  };
  std::unordered_map<std::string, State> states_;  // by path; removed paths let go
};

}  // namespace otpd::control
