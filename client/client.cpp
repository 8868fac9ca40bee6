#include "client/client.hpp"

#include "protocol/duration.hpp"
#include "protocol/error_code.hpp"
#include "protocol/fields.hpp"
#include "protocol/version.hpp"

namespace otpd::client {

namespace field = protocol::field;
using protocol::Command;
using protocol::ErrorCode;
using protocol::kProtocolVersion;

Client::Client(const std::string& socket_path, Ms timeout)
    : connection_(Connection::open(socket_path, Clock::now() + timeout)), timeout_(timeout) {
  const Reply reply = call(Command::hello, {{field::protocol, kProtocolVersion},
                                            {field::client, "otpctl " OTPD_VERSION}});
  if (reply.error) {
    if (reply.error->code == protocol::name_of(ErrorCode::busy)) {
      // Not a no: otpd could not take the connection now; later it may.
      throw Unreachable("otpd at " + socket_path + " is busy: " + reply.error->message);
    }
    if (reply.error->code == protocol::name_of(ErrorCode::unsupported_version)) {
      throw Refused("otpd at " + socket_path + " does not speak protocol " +
                    std::to_string(kProtocolVersion) + " (" + reply.error->message +
                    "): use an otpctl of the same release as otpd");
    }
    throw Refused("otpd at " + socket_path + " refused hello: " + reply.error->message);
  }
  const Json& spoken = reply.result.is_object() && reply.result.contains(field::protocol)
                           ? reply.result[field::protocol]
                           : Json();
  if (spoken != kProtocolVersion) {
    throw Refused("otpd at " + socket_path + " speaks protocol " + spoken.dump() +
                  ", this otpctl speaks protocol " + std::to_string(kProtocolVersion) +
                  ": use an otpctl of the same release as otpd");
  }
  hello_ = reply.result;
}

Reply Client::call(Command cmd, Json args) {
  const Deadline until = deadline();
  send(cmd, std::move(args));
  return receive(until);
}

Reply Client::open_stream(Command cmd, Json args) {
  return call(cmd, std::move(args));
}

std::optional<Json> Client::next_message() {
  const auto line = connection_.read_line(std::nullopt);
  if (!line) return std::nullopt;
  return parse(*line);
}

void Client::send(Command cmd, Json args) {
  Json request = {{field::id, next_id_}, {field::cmd, protocol::name_of(cmd)}};
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
                   protocol::format_duration(timeout_) + " (use --timeout to wait longer)");
  }
  if (!line) {
    throw Unreachable("otpd at " + socket_path() + " closed the connection without answering");
  }
  Json message = parse(*line);
  // An error with a null id is about the connection rather than one request
  // (a peer otpd refuses at accept, a line too large to read): it answers
  // whatever otpctl was waiting for.
  const Json answered = message.value(field::id, Json());
  const bool about_connection = answered.is_null() && message.contains(field::error);
  if (answered != id && !about_connection) {
    throw Unreachable("otpd at " + socket_path() +
                      " answered a request otpctl did not send: " + line->substr(0, 200));
  }
  Reply reply;
  if (message.contains(field::error)) {
    const Json& error = message[field::error];
    ErrorReply failure{std::string(protocol::name_of(ErrorCode::failed)), "unknown error"};
    if (error.is_object()) {
      if (error.contains(field::code) && error[field::code].is_string()) {
        failure.code = error[field::code];
      }
      if (error.contains(field::message) && error[field::message].is_string()) {
        failure.message = error[field::message];
      }
    }
    reply.error = std::move(failure);
  } else if (message.contains(field::result)) {
    reply.result = std::move(message[field::result]);
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

}  // namespace otpd::client
