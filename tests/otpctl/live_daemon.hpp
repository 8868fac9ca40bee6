// A real otpd on a socket in its own sandbox, and otpctl pointed at it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "harness.hpp"
#include "otpctl_process.hpp"

namespace otpd::ctl_test {

class LiveDaemon {
 public:
  // Starts otpd on `yaml` (see Sandbox::write) with OTPD_SOCKET in the
  // sandbox, and waits until otpctl gets an answer from it.
  explicit LiveDaemon(std::string_view yaml) : LiveDaemon(yaml, {}) {}
  // The same with `options` for otpd (a wrapper, more arguments), waiting
  // up to `start_timeout` for the tree to start (a big tree under ASan).
  LiveDaemon(std::string_view yaml, it::Options options,
             it::Ms start_timeout = it::default_timeout);

  it::Sandbox box;
  const std::string socket;
  it::Otpd otpd;

  std::string socket_env() const { return "OTPD_SOCKET=" + socket; }
  // otpctl ARGS against this otpd, with `env` added.
  Outcome ctl(std::vector<std::string> args, std::vector<std::string> env = {}) const;
  // The same with stdin read from the file `input`.
  Outcome ctl_with_input(std::vector<std::string> args, const std::string& input) const;
};

// Children a, b and c of the test child under one supervisor.
std::string three_children(std::string_view strategy);

}  // namespace otpd::ctl_test
