// The endpoints' view of the running otpd: the tree, the captured output,
// the event counts, the phase of its life, and the admin token.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "control/worker_states.hpp"
#include "http/event_tally.hpp"
#include "http/metrics.hpp"
#include "http/routes.hpp"
#include "output/output_hub.hpp"
#include "supervise/tree.hpp"
#include "supervise/tree_health.hpp"

namespace otpd::http {

class HttpServer;

// Reads the admin token from `file`: its first line, at least 16 bytes. A
// file others may read is refused. Nothing and `error` on failure.
std::optional<std::string> read_admin_token(const std::string& file, std::string& error);

class DaemonSite final : public Site {
 public:
  // How long the loop may take to run a posted no-op before /healthz fails.
  static constexpr std::chrono::milliseconds kLivenessBound{1000};

  DaemonSite(supervise::Tree& tree, output::OutputHub* outputs, const EventTally& events,
             const supervise::TreePhase& phase, std::string admin_token);

  // What /metrics adds from outside the tree, asked at each scrape.
  std::function<std::uint64_t()> control_clients;
  std::function<HookFigures()> hooks;
  void attach(const HttpServer* server) { server_ = server; }
  const control::WorkerStates* workers = nullptr;

  std::string metrics() override;
  void liveness(std::function<void(bool, std::string)> done) override;
  bool readiness(std::string& why) override;
  std::string tree_json() override;
  std::optional<std::string> logs_json(const std::string& path, int lines) override;
  void act(Action action, const std::string& path,
           std::function<void(std::optional<ActionFailure>, std::string)> done) override;
  bool admin_configured() const override { return !admin_token_.empty(); }
  bool admin_token_is(std::string_view token) const override;
  // A reload's token; empty turns actions off.
  void set_admin_token(std::string token) { admin_token_ = std::move(token); }

  // The status JSON of the node at `path` without its children; empty when
  // there is none.
  std::string node_json(const std::string& path) const;

 private:
  supervise::Tree& tree_;
  output::OutputHub* outputs_;
  const EventTally& events_;
  const supervise::TreePhase& phase_;
  std::string admin_token_;
  const HttpServer* server_ = nullptr;
};

}  // namespace otpd::http
