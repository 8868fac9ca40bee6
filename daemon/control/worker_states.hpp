// What the events of in-process workers said last, for `otpctl status` and
// the page: a health check's probes, a cron job's runs. The workers run on
// their own threads; their events are the loop's view of them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>

#include "supervise/event.hpp"
#include "supervise/status.hpp"

namespace otpd::control {

class WorkerStates {
 public:
  // From the event hub's observers; `time` as events carry it.
  void observe(const supervise::Event& event, const std::string& time);
  // Fills in `health` and `cron` of the workers at and below `node`, and a
  // running cron job's next run.
  void annotate(supervise::NodeStatus& node) const;

  // When the running cron job at a path runs next (ms since the Unix
  // epoch), as the job itself knows it; set by the daemon.
  std::function<std::optional<std::int64_t>(const std::string& path)> next_run;

 private:
  struct State {
    std::string health;
    std::string cron;
  };
  std::unordered_map<std::string, State> states_;  // by path; removed paths let go
};

}  // namespace otpd::control
