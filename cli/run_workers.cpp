// call, cast, whereis: messages to in-process workers (docs/workers.md).
#include <algorithm>
#include <iostream>
#include <iterator>
#include <optional>

#include "cli/client_names.hpp"
#include "cli/output.hpp"
#include "cli/run.hpp"

namespace otpd::ctl {
namespace {

// otpd's own wait for a reply, OTP's 5 s unless --timeout is shorter: its
// "no reply" error then arrives before otpctl stops waiting for otpd.
constexpr Ms kCallTimeout{5000};

std::string dump(const Json& value, int indent = -1) {
  return value.dump(indent, ' ', false, Json::error_handler_t::replace) + "\n";
}

// MESSAGE as JSON text: the argument, or standard input for "-" (a message
// too long for a command line, or one a script builds). Nothing, after
// saying why, when stdin holds neither JSON nor a bare word.
std::optional<std::string> message_text(const Invocation& inv) {
  if (!inv.message_from_stdin) return inv.message;
  std::string written(std::istreambuf_iterator<char>(std::cin), {});
  while (!written.empty() && (written.back() == '\n' || written.back() == '\r')) {
    written.pop_back();
  }
  std::string json;
  if (std::cin.bad() || !message_json(written, json)) {
    complain("MESSAGE: standard input holds neither JSON nor a bare word such as get");
    return std::nullopt;
  }
  return json;
}

Reply ask(const Context& context, protocol::Command cmd, Json args, const std::string& message) {
  Client client(context.socket_path, context.invocation.timeout);
  args["path"] = context.invocation.paths.front();
  if (cmd != protocol::Command::whereis) args["message"] = Json::parse(message);
  return client.call(cmd, std::move(args));
}

}  // namespace

int run_call(const Context& context) {
  const Invocation& inv = context.invocation;
  const Ms wait = std::min(kCallTimeout, std::max(Ms(1), inv.timeout * 9 / 10));
  const auto message = message_text(inv);
  if (!message) return exit_usage;
  const Reply reply =
      ask(context, protocol::Command::call, {{"timeout_ms", wait.count()}}, *message);
  if (reply.error) {
    complain("call " + inv.paths.front() + ": " + reply.error->message);
    return exit_refused;
  }
  if (inv.json) {
    print(dump(reply.result));
  } else {
    const auto found = reply.result.find("reply");
    print(dump(found != reply.result.end() ? *found : Json(), 2));
  }
  return exit_ok;
}

int run_cast(const Context& context) {
  const Invocation& inv = context.invocation;
  const auto message = message_text(inv);
  if (!message) return exit_usage;
  const Reply reply = ask(context, protocol::Command::cast, Json::object(), *message);
  if (reply.error) {
    complain("cast " + inv.paths.front() + ": " + reply.error->message);
    return exit_refused;
  }
  print(inv.json
            ? dump(reply.result)
            : "sent to " + text_field(reply.result, "path").value_or(inv.paths.front()) + "\n");
  return exit_ok;
}

// "app/settings: agent, runtime pid 12" or "app/settings: agent, not running".
int run_whereis(const Context& context) {
  const Invocation& inv = context.invocation;
  const Reply reply = ask(context, protocol::Command::whereis, Json::object(), {});
  if (reply.error) {
    complain("whereis " + inv.paths.front() + ": " + reply.error->message);
    return exit_refused;
  }
  const Json& result = reply.result;
  const bool running = bool_field(result, "running");
  if (inv.json) {
    print(dump(result));
  } else {
    std::string line = text_field(result, "path").value_or(inv.paths.front()) + ": " +
                       text_field(result, "worker_kind").value_or("worker") + ", ";
    const auto pid = int_field(result, "runtime_pid");
    line += running && pid ? "runtime pid " + std::to_string(*pid) : "not running";
    print(line + "\n");
  }
  return running ? exit_ok : exit_refused;
}

}  // namespace otpd::ctl
