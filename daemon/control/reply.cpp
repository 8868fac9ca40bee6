#include "control/reply.hpp"

#include "control/json_text.hpp"
#include "protocol/fields.hpp"

namespace otpd::control {
namespace {

void append_tagged(std::string& out, std::string_view id, std::string_view tag,
                   std::string_view json) {
  out += "{\"";
  out += protocol::field::id;
  out += "\":";
  out += id;
  out += ",\"";
  out += tag;
  out += "\":";
  out += json;
  out += "}\n";
}

}  // namespace

void append_result(std::string& out, std::string_view id, std::string_view result) {
  append_tagged(out, id, protocol::field::result, result);
}

void append_event(std::string& out, std::string_view id, std::string_view event) {
  append_tagged(out, id, protocol::field::event, event);
}

void append_line(std::string& out, std::string_view id, std::string_view line) {
  append_tagged(out, id, protocol::field::line, line);
}

void append_error(std::string& out, std::string_view id, ErrorCode code, std::string_view message) {
  // {"id":ID,"error":{"code":"CODE","message":TEXT}}
  out += "{\"";
  out += protocol::field::id;
  out += "\":";
  out += id;
  out += ",\"";
  out += protocol::field::error;
  out += "\":{\"";
  out += protocol::field::code;
  out += "\":\"";
  out += protocol::name_of(code);
  out += "\",\"";
  out += protocol::field::message;
  out += "\":";
  append_json_string(out, message);
  out += "}}\n";
}

}  // namespace otpd::control
