// events [--follow]: otpd's recent events, then optionally the live stream.
#include "cli/client_names.hpp"
#include "cli/event_view.hpp"
#include "cli/output.hpp"
#include "cli/run.hpp"

namespace otpd::ctl {
namespace {

void show(const Json& event, bool json) {
  print((json ? event.dump(-1, ' ', false, Json::error_handler_t::replace) : render_event(event)) +
        "\n");
}

// Reads the stream until otpd ends it. otpd closes the connection when it
// exits, which is the normal end of following: status 0. An error message
// on the stream (a subscriber too slow, dropped) is a failure: status 1.
int follow(Client& client, bool json) {
  while (auto message = client.next_message()) {
    if (message->contains("event")) {
      show((*message)["event"], json);
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

int run_events(const Context& context) {
  const Invocation& inv = context.invocation;
  Client client(context.socket_path, inv.timeout);
  Json args = {{"follow", inv.follow}};
  if (inv.backlog) args["backlog"] = *inv.backlog;
  const Reply reply = inv.follow ? client.open_stream(protocol::Command::events, std::move(args))
                                 : client.call(protocol::Command::events, std::move(args));
  if (reply.error) {
    complain(reply.error->message);
    return exit_refused;
  }
  if (inv.follow) return follow(client, inv.json);
  const auto found = reply.result.is_object() ? reply.result.find("events") : reply.result.end();
  if (found != reply.result.end() && found->is_array()) {
    for (const Json& event : *found) show(event, inv.json);
  }
  return exit_ok;
}

}  // namespace otpd::ctl
