#include "live_daemon.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>

namespace otpd::ctl_test {
namespace {

// The running test children of a status node and below: their name (what
// follows --name in the command) and pid.
void test_children(const nlohmann::json& node, std::vector<std::pair<std::string, int>>& out) {
  if (!node.is_object()) return;
  if (node.contains("command") && node["command"].is_array() && node.contains("pid") &&
      node["pid"].is_number()) {
    const auto& command = node["command"];
    for (std::size_t i = 0; i + 1 < command.size(); ++i) {
      if (command[i] == "--name" && command[i + 1].is_string()) {
        out.emplace_back(command[i + 1].get<std::string>(), node["pid"].get<int>());
      }
    }
  }
  if (node.contains("children")) {
    for (const auto& child : node["children"]) test_children(child, out);
  }
}

}  // namespace

namespace {

it::Options with_socket(it::Options options, const std::string& socket) {
  options.env.push_back("OTPD_SOCKET=" + socket);
  return options;
}

}  // namespace

LiveDaemon::LiveDaemon(std::string_view yaml, it::Options options, it::Ms start_timeout)
    : socket(box.path("otpd.sock")),
      otpd(it::Otpd::run(box, yaml, with_socket(std::move(options), box.path("otpd.sock")))) {
  REQUIRE_MESSAGE(otpd.wait_message("tree started", start_timeout), otpd.transcript());
  // otpd listens on its socket before it starts the tree: it answers now.
  const Outcome ping = ctl({"ping"});
  if (ping.code != 0) {
    FAIL("otpctl ping never succeeded: " << ping.shown() << "\n" << otpd.transcript());
  }
  // A test child that has exec'd may not have written its "start" line yet;
  // tests read pids from those lines, so they wait for them here. A tree
  // that restarts a child meanwhile (a failing health check does at once)
  // names a new pid, so status is asked again until every current pid has
  // its line.
  std::string missing;
  const bool recorded = otpd.wait_for([&] {
    const Outcome status = ctl({"status", "--json"});
    const auto tree = nlohmann::json::parse(status.out, nullptr, false);
    std::vector<std::pair<std::string, int>> children;
    test_children(tree, children);
    const std::vector<std::string> records = box.records();
    for (const auto& [name, pid] : children) {
      const std::string line = "start " + name + " " + std::to_string(pid);
      bool found = false;
      for (const std::string& record : records) {
        if (record == line || record.rfind(line + " ", 0) == 0) found = true;
      }
      if (!found) {
        missing = name + " (pid " + std::to_string(pid) + ")";
        return false;
      }
    }
    return true;
  });
  REQUIRE_MESSAGE(recorded, missing << " never recorded its start\n" << otpd.transcript());
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
