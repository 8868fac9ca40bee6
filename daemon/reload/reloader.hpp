// Live reload from the daemon's side (docs/reload.md): read the config file
// otpd was started with again, refuse it whole when it is invalid, and hand
// it to the tree otherwise; log it, tell the service manager, answer the
// caller. SIGHUP and `otpctl reload` both come here.
#pragma once

#include <functional>
#include <string>

#include "control/reload_json.hpp"
#include "control/request.hpp"
#include "log/event_log.hpp"
#include "sd_notify/notify.hpp"
#include "supervise/failure.hpp"
#include "supervise/tree.hpp"

namespace otpd::reload {

class Reloader {
 public:
  using Done = std::function<void(control::ReloadOutcome)>;
  // What otpd adds to every tree it reads (the command given after --).
  using Complete = std::function<void(config::Config&)>;
  // `ready` sends READY=1 when no reload is under way any more; `failed`
  // is nothing, or says that the last reload failed and why. An empty `file`
  // (otpd -- COMMAND alone) has nothing to reload: reloads are refused.
  Reloader(supervise::Host& host, supervise::Tree& tree, log::EventLog& log,
           sd_notify::Notifier& manager, std::string file,
           std::function<void(const supervise::Failure& failed)> ready, Complete complete = {});

  // Re-reads and applies the file; `why` says who asked ("SIGHUP").
  // `done` is called later, from the event loop.
  void reload(const std::string& why, Done done);
  // The control socket's `reload` request, dry runs included.
  void serve(const control::ClientRequest& request, Done done);
  // The tree is going away: reloads are refused from now on, and the
  // manager hears nothing more from here.
  void stop() { stopping_ = true; }

  // Applies the sections that live beside the tree (http, hooks) at each
  // reload, before the tree's own changes: adds to the outcome's `applied`
  // what it did and to its `warnings` what it could not do. Without it a
  // change of those sections is only warned about.
  std::function<void(const config::Config& next, control::ReloadOutcome& outcome)> apply_sections;

 private:
  void dry_run(const control::ClientRequest& request, Done done);
  void finish(control::ReloadOutcome outcome, Done done);
  config::Config completed(config::Config config) const;

  supervise::Host& host_;
  supervise::Tree& tree_;
  log::EventLog& log_;
  sd_notify::Notifier& manager_;
  std::string file_;
  std::function<void(const supervise::Failure& failed)> ready_;
  Complete complete_;
  int in_flight_ = 0;  // reloads between RELOADING=1 and READY=1
  bool stopping_ = false;
};

}  // namespace otpd::reload
