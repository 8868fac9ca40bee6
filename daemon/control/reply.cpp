#include "control/reply.hpp"

#include "control/json_text.hpp"

namespace otpd::control {
namespace {

void append_tagged(std::string& out, std::string_view id, std::string_view tag,
                   std::string_view json) {
  out += "{\"id\":";
  out += id;
  out += ",\"";
  out += tag;
  out += "\":";
  out += json;
  out += "}\n";
}

}  // namespace

void append_result(std::string& out, std::string_view id, std::string_view result) {
  append_tagged(out, id, "result", result);
}

void append_event(std::string& out, std::string_view id, std::string_view event) {
  append_tagged(out, id, "event", event);
}

void append_line(std::string& out, std::string_view id, std::string_view line) {
  append_tagged(out, id, "line", line);
}

void append_error(std::string& out, std::string_view id, ErrorCode code, std::string_view message) {
  append_error(out, id, std::string_view(to_string(code)), message);
}

void append_error(std::string& out, std::string_view id, std::string_view code,
                  std::string_view message) {
  out += "{\"id\":";
  out += id;
  out += ",\"error\":{\"code\":\"";
  out += code;
  out += "\",\"message\":";
  append_json_string(out, message);
  out += "}}\n";
}

}  // namespace otpd::control
