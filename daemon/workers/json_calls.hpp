// Calls and casts from the supervisor's loop to workers with a JSON
// interface (workers/json_interface.hpp). The loop never waits: the request
// travels to the worker's thread and the outcome is posted back to the
// loop, where `done` runs, once, whether the worker replied, failed, ended
// or let the timeout run out (a reply after the timeout is dropped).
#pragma once

#include <functional>
#include <string>

#include "runtime/process.hpp"
#include "supervise/host.hpp"

namespace otpd::workers {

struct JsonOutcome {
  bool ok = false;
  std::string reply = {};  // ok: the reply as JSON text
  std::string error = {};  // otherwise: why there is none
};

class WorkerPool;

class JsonCalls {
 public:
  // Workers are found by tree path in `workers`' registry.
  JsonCalls(supervise::Host& host, const WorkerPool& workers) : host_(host), workers_(workers) {}

  // The worker running at tree path `path`; empty when none.
  runtime::Pid whereis(const std::string& path) const;

  // `message` is JSON text (the control request checked it). `what` names
  // the worker in errors ("'app/settings'").
  void call(const runtime::Pid& worker, const std::string& what, std::string message,
            supervise::Duration timeout, std::function<void(JsonOutcome)> done);
  // Fire and forget: a worker without a JSON interface, or one that does
  // not understand `message`, drops it.
  void cast(const runtime::Pid& worker, std::string message);

 private:
  supervise::Host& host_;
  const WorkerPool& workers_;
};

}  // namespace otpd::workers
