// status, ping, version: questions that change nothing.
#include <chrono>
#include <cstdio>

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

}  // namespace

int run_status(const Context& context) {
  const Invocation& inv = context.invocation;
  Client client(context.socket_path, inv.timeout);
  Json args = Json::object();
  if (!inv.paths.empty()) args["path"] = inv.paths.front();
  const Reply reply = client.call("status", std::move(args));
  if (reply.error) {
    complain(reply.error->message);
    return exit_refused;
  }
  print(inv.json ? dump(reply.result) : render_tree(reply.result, context.style));
  return exit_ok;
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
