// status, ping, version: questions that change nothing.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/client.hpp"
#include "cli/node_fields.hpp"
#include "cli/output.hpp"
#include "cli/run.hpp"
#include "cli/tree_view.hpp"

namespace otpd::ctl {
namespace {

std::string dump(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

// Whether `node` and every node below it is running.
bool all_running(const Json& node) {
  if (text_field(node, "state").value_or("") != "running") return false;
  if (node.is_object()) {
    if (const auto children = node.find("children");
        children != node.end() && children->is_array()) {
      for (const Json& child : *children) {
        if (!all_running(child)) return false;
      }
    }
  }
  return true;
}

}  // namespace

int run_status(const Context& context) {
  const Invocation& inv = context.invocation;
  Client client(context.socket_path, inv.timeout);
  Json args = Json::object();
  if (!inv.paths.empty()) args["path"] = inv.paths.front();
  const Reply reply = client.call("status", std::move(args));
  if (reply.error) {
    complain(reply.error->message);
    return exit_unknown;
  }
  print(inv.json ? dump(reply.result) : render_tree(reply.result, context.style));
  return all_running(reply.result) ? exit_ok : exit_not_running;
}

int run_is_active(const Context& context) {
  const Invocation& inv = context.invocation;
  const std::vector<std::string> paths =
      inv.paths.empty() ? std::vector<std::string>{"/"} : inv.paths;
  Client client(context.socket_path, inv.timeout);
  int status = exit_ok;
  for (const std::string& path : paths) {
    const Reply reply = client.call("status", {{"path", path}});
    std::string state = "unknown";
    if (reply.error) {
      if (!inv.quiet) complain(path + ": " + reply.error->message);
      status = exit_unknown;
    } else {
      state = text_field(reply.result, "state").value_or("unknown");
      if (state != "running" && status == exit_ok) status = exit_not_running;
    }
    if (inv.quiet) continue;
    if (inv.json) {
      print(dump({{"path", reply.error ? path : text_field(reply.result, "path").value_or(path)},
                  {"state", state}}));
    } else {
      print(state + "\n");
    }
  }
  return status;
}

int run_ping(const Context& context) {
  Client client(context.socket_path, context.invocation.timeout);
  const auto sent = Clock::now();
  const Reply reply = client.call("ping");
  const std::chrono::duration<double, std::milli> round_trip = Clock::now() - sent;
  if (reply.error) {
    complain(reply.error->message);
    return exit_refused;
  }
  char text[128];
  std::snprintf(text, sizeof text, "pong from otpd (pid %lld) in %.3f ms\n",
                static_cast<long long>(int_field(client.hello(), "pid").value_or(0)),
                round_trip.count());
  print(text);
  return exit_ok;
}

int run_health(const Context& context) {
  const Invocation& inv = context.invocation;
  Client client(context.socket_path, inv.timeout);
  const auto sent = Clock::now();
  const Reply reply = client.call("health");
  const std::chrono::duration<double, std::milli> round_trip = Clock::now() - sent;
  if (reply.error) {
    complain(reply.error->message);
    return exit_refused;
  }
  const bool ready = bool_field(reply.result, "ready");
  if (inv.json) {
    print(dump(reply.result));
  } else if (inv.live) {
    char text[64];
    std::snprintf(text, sizeof text, "live: otpd answered in %.3f ms\n", round_trip.count());
    print(text);
  } else {
    print(ready ? std::string("ready\n")
                : "not ready: " + text_field(reply.result, "reason").value_or("") + "\n");
  }
  return inv.live || ready ? exit_ok : exit_refused;
}

int run_version(const Context& context) {
  const bool json = context.invocation.json;
  // otpctl's own version is worth printing even when otpd cannot be reached.
  if (!json) {
    print("otpctl " OTPD_VERSION " (protocol " + std::to_string(protocol_version) + ")\n");
  }
  Client client(context.socket_path, context.invocation.timeout);
  const Reply reply = client.call("version");
  if (reply.error) {
    complain(reply.error->message);
    return exit_refused;
  }
  if (json) {
    print(dump(reply.result));
    return exit_ok;
  }
  const auto protocol = int_field(reply.result, "protocol");
  print("otpd " + text_field(reply.result, "version").value_or("(unknown version)") +
        " (protocol " + (protocol ? std::to_string(*protocol) : "?") + ")\n");
  return exit_ok;
}

}  // namespace otpd::ctl
