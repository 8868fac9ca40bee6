// libFuzzer target: any bytes as a request line must give either a request
// or an error whose reply is valid JSON, never a crash or a leak.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "control/reply.hpp"
#include "control/request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace otpd::control;
  static ClientRequest request;  // reused, as a session reuses its own
  RequestError error;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  std::string reply;
  if (parse_request(line, request, error)) {
    append_result(reply, request.id, "null");
  } else {
    append_error(reply, error.id, error.code, error.message);
  }
  reply.pop_back();  // the newline
  const auto parsed = nlohmann::json::parse(reply, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("id")) std::abort();
  return 0;
}
