// The lines otpd sends back: a result, an error, or one item of a stream,
// each tagged with the id of the request it answers.
#pragma once

#include <string>
#include <string_view>

#include "control/request.hpp"

namespace otpd::control {

// {"id":ID,"result":RESULT}\n — `result` is JSON text.
void append_result(std::string& out, std::string_view id, std::string_view result);
// {"id":ID,"error":{"code":CODE,"message":MESSAGE}}\n
void append_error(std::string& out, std::string_view id, ErrorCode code, std::string_view message);
// The same with a code that no request earns, only a connection: "busy".
void append_error(std::string& out, std::string_view id, std::string_view code,
                  std::string_view message);
// {"id":ID,"line":LINE}\n — one line of a child's output, JSON text.
void append_line(std::string& out, std::string_view id, std::string_view line);
// {"id":ID,"event":EVENT}\n — `event` is JSON text.
void append_event(std::string& out, std::string_view id, std::string_view event);

}  // namespace otpd::control
