#include "live_daemon.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <thread>

namespace otpd::ctl_test {

LiveDaemon::LiveDaemon(std::string_view yaml)
    : socket(box.path("otpd.sock")),
      otpd(it::Otpd::run(box, yaml, it::Options{{"OTPD_SOCKET=" + box.path("otpd.sock")}})) {
  REQUIRE_MESSAGE(otpd.wait_message("tree started"), otpd.transcript());
  // The socket may be answering a moment after the tree has started.
  Outcome ping;
  for (int attempt = 0; attempt < 100; ++attempt) {
    ping = ctl({"ping"});
    if (ping.code == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL("otpctl ping never succeeded: " << ping.shown() << "\n" << otpd.transcript());
}

Outcome LiveDaemon::ctl(std::vector<std::string> args, std::vector<std::string> env) const {
  env.push_back(socket_env());
  return run_otpctl(std::move(args), std::move(env));
}

Outcome LiveDaemon::ctl_with_input(std::vector<std::string> args, const std::string& input) const {
  return run_otpctl(std::move(args), {socket_env()}, Ms(20'000), input);
}

std::string three_children(std::string_view strategy) {
  std::string yaml = "tree:\n  strategy: " + std::string(strategy) + "\n  children:\n";
  for (const char* name : {"a", "b", "c"}) {
    yaml += "    - name: " + std::string(name) + "\n      command: [@CHILD@, --name, " + name +
            ", --term-delay, 0]\n";
  }
  return yaml;
}

}  // namespace otpd::ctl_test
