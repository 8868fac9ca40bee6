// What a reload (or a dry run of one) answers on the control socket
// (docs/protocol.md, reload), and the service that carries it out.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/diff.hpp"
#include "control/request.hpp"
#include "supervise/supervisor.hpp"

namespace otpd::control {

struct ReloadOutcome {
  // Why nothing changed: the configuration could not be read or is
  // invalid ("FILE:LINE:COL: ..."), or the tree is stopping.
  std::optional<std::string> failure = {};
  bool dry_run = false;
  std::string file = {};
  config::TreeDiff diff = {};
  supervise::ReloadFailures failed = {};  // added or changed children that did not start
  std::vector<std::string> warnings = {};
  // What changed beside the tree (the http and hooks sections), as done or,
  // in a dry run, as a reload would do it: "http: listening on ...".
  std::vector<std::string> applied = {};
};

// Carries out a `reload` request; calls `done` later, from the event loop.
using ReloadService = std::function<void(const ClientRequest&, std::function<void(ReloadOutcome)>)>;

// The result object of a reload reply (not the error: see Commands).
std::string reload_json(const ReloadOutcome& outcome);

}  // namespace otpd::control
