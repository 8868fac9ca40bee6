#include "cli/client.hpp"

namespace otpd::ctl {

Client::Client(const std::string& socket_path, Ms timeout)
    : connection_(Connection::open(socket_path, Clock::now() + timeout)), timeout_(timeout) {
  const Reply reply =
      call("hello", {{"protocol", protocol_version}, {"client", "otpctl " OTPD_VERSION}});
  if (reply.error) {
    if (reply.error->code == "busy") {
      // Not a no: otpd could not take the connection now; later it may.
      throw Unreachable("otpd at " + socket_path + " is busy: " + reply.error->message);
    }
    if (reply.error->code == "unsupported_version") {
      throw Refused("otpd at " + socket_path + " does not speak protocol " +
                    std::to_string(protocol_version) + " (" + reply.error->message +
                    "): use an otpctl of the same release as otpd");
    }
    throw Refused("otpd at " + socket_path + " refused hello: " + reply.error->message);
  }
  const Json& protocol = reply.result.is_object() && reply.result.contains("protocol")
                             ? reply.result["protocol"]
                             : Json();
  if (protocol != protocol_version) {
    throw Refused("otpd at " + socket_path + " speaks protocol " + protocol.dump() +
                  ", this otpctl speaks protocol " + std::to_string(protocol_version) +
                  ": use an otpctl of the same release as otpd");
  }
  hello_ = reply.result;
}

Reply Client::call(const std::string& cmd, Json args) {
  const Deadline until = deadline();
  send(cmd, std::move(args));
  return receive(until);
}

Reply Client::open_stream(const std::string& cmd, Json args) {
  return call(cmd, std::move(args));
}

std::optional<Json> Client::next_message() {
  const auto line = connection_.read_line(std::nullopt);
  if (!line) return std::nullopt;
  return parse(*line);
}

void Client::send(const std::string& cmd, Json args) {
  Json request = {{"id", next_id_}, {"cmd", cmd}};
  request.update(args);
  connection_.send_line(request.dump(-1, ' ', false, Json::error_handler_t::replace), deadline());
}

Reply Client::receive(Deadline until) {
  const int id = next_id_++;
  std::optional<std::string> line;
  try {
    line = connection_.read_line(until);
  } catch (const TimedOut&) {
    throw TimedOut("otpd at " + socket_path() + " did not answer within " +
                   format_exact(timeout_.count()) + " (use --timeout to wait longer)");
  }
  if (!line) {
    throw Unreachable("otpd at " + socket_path() + " closed the connection without answering");
  }
  Json message = parse(*line);
  // An error with a null id is about the connection rather than one request
  // (a peer otpd refuses at accept, a line too large to read): it answers
  // whatever otpctl was waiting for.
  const Json answered = message.value("id", Json());
  const bool about_connection = answered.is_null() && message.contains("error");
  if (answered != id && !about_connection) {
    throw Unreachable("otpd at " + socket_path() +
                      " answered a request otpctl did not send: " + line->substr(0, 200));
  }
  Reply reply;
  if (message.contains("error")) {
    const Json& error = message["error"];
    Failure failure{"failed", "unknown error"};
    if (error.is_object()) {
      if (error.contains("code") && error["code"].is_string()) failure.code = error["code"];
      if (error.contains("message") && error["message"].is_string()) {
        failure.message = error["message"];
      }
    }
    reply.error = std::move(failure);
  } else if (message.contains("result")) {
    reply.result = std::move(message["result"]);
  } else {
    throw Unreachable("otpd at " + socket_path() + " sent a reply with neither result nor error");
  }
  return reply;
}

Json Client::parse(const std::string& line) const {
  Json message = Json::parse(line, nullptr, false);
  if (message.is_discarded() || !message.is_object()) {
    throw Unreachable("what answers at " + socket_path() +
                      " does not speak otpd's protocol: " + line.substr(0, 200));
  }
  return message;
}

}  // namespace otpd::ctl
