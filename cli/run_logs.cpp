// logs PATH [-n N] [--follow] [--stdout|--stderr]: a child's buffered
// output, then optionally its new lines as they are written.
#include "cli/client_names.hpp"
#include "cli/output.hpp"
#include "cli/run.hpp"

namespace otpd::ctl {
namespace {

// "2026-11-24T15:17:22.123456Z out hello", as in a log file.
std::string render_line(const Json& line, const Style& style) {
  const std::string stream = text_field(line, "stream").value_or("?");
  std::string tag = stream == "stdout" ? "out" : stream == "stderr" ? "err" : stream;
  if (line.contains("continued") && line["continued"] == true) tag += '+';
  return paint(text_field(line, "time").value_or("-"), Tone::idle, style) + " " +
         paint(tag, stream == "stderr" ? Tone::broken : Tone::plain, style) + " " +
         text_field(line, "line").value_or("");
}

void show(const Json& line, const Context& context) {
  print((context.invocation.json ? line.dump(-1, ' ', false, Json::error_handler_t::replace)
                                 : render_line(line, context.style)) +
        "\n");
}

// Ends like `events --follow`: otpd closing the connection (it exits) is
// the normal end, status 0; an error on the stream (a follower too slow,
// dropped) is status 1.
int follow(Client& client, const Context& context) {
  while (auto message = client.next_message()) {
    if (message->contains("line")) {
      show((*message)["line"], context);
    } else if (message->contains("error")) {
      const Json& error = (*message)["error"];
      complain(error.is_object() && error.contains("message") && error["message"].is_string()
                   ? error["message"].get<std::string>()
                   : error.dump());
      return exit_refused;
    }
  }
  return exit_ok;
}

}  // namespace

int run_logs(const Context& context) {
  const Invocation& inv = context.invocation;
  Client client(context.socket_path, inv.timeout);
  Json args = {{"path", inv.paths.front()}, {"follow", inv.follow}};
  if (inv.backlog) args["lines"] = *inv.backlog;
  if (inv.only_stdout) args["stream"] = "stdout";
  if (inv.only_stderr) args["stream"] = "stderr";
  const Reply reply = inv.follow ? client.open_stream(protocol::Command::logs, std::move(args))
                                 : client.call(protocol::Command::logs, std::move(args));
  if (reply.error) {
    complain(reply.error->message);
    return exit_refused;
  }
  const Json& result = reply.result;
  if (result.is_object() && result.contains("captured") && result["captured"] == false) {
    const std::string mode = text_field(result, "output").value_or("?");
    if (const auto why = text_field(result, "not_captured")) {
      complain("the output of '" + inv.paths.front() + "' is not captured: " + *why +
               "; it goes to otpd's own stdout and stderr");
      return exit_refused;
    }
    complain("the output of '" + inv.paths.front() + "' is not captured (output: " + mode +
             (mode == "inherit" ? "): it goes to otpd's own stdout and stderr"
                                : "): it goes to /dev/null"));
    return exit_refused;
  }
  if (inv.follow) return follow(client, context);
  const auto found = result.is_object() ? result.find("lines") : result.end();
  if (found != result.end() && found->is_array()) {
    for (const Json& line : *found) show(line, context);
  }
  return exit_ok;
}

}  // namespace otpd::ctl
