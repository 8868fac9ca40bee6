// A small blocking HTTP/1.1 client for tests, over TCP on loopback or a
// Unix socket, with a deadline on every call; and raw connections for
// sending what no well-behaved client would.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace otpd::http_test {

using Ms = std::chrono::milliseconds;

// Where otpd listens: a port on 127.0.0.1, or a Unix socket path.
struct Endpoint {
  int port = 0;
  std::string socket_path{};
};

struct Reply {
  int status = 0;  // 0: no answer (connection failed, closed or timed out)
  std::map<std::string, std::string> headers{};  // names in lower case
  std::string body{};
  std::string error{};  // why status is 0
};

// A port on 127.0.0.1 that nothing listens on right now.
int free_port();

// A config's line "http: {listen: 127.0.0.1:PORT<extra>}", `extra` being
// more keys (", max_connections: 4").
inline std::string http_section(int port, std::string_view extra = "") {
  return "http: {listen: 127.0.0.1:" + std::to_string(port) + std::string(extra) + "}\n";
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Connects (blocking, with the deadline); -1 on failure. A receive buffer
// other than 0 is set before connecting, so that the window stays small.
int connect_to(const Endpoint& endpoint, Ms timeout = Ms(5000), int receive_buffer = 0);

// Sends `raw` as it is and reads one response (or until the peer closes).
Reply exchange(const Endpoint& endpoint, const std::string& raw, Ms timeout = Ms(10000));
// Reads one response from a connected socket.
Reply read_reply(int fd, Ms timeout);

// GET/POST/... `target` with Host: 127.0.0.1:PORT (or `host`) and `headers`.
Reply request(const Endpoint& endpoint, const std::string& method, const std::string& target,
              const std::vector<std::string>& headers = {}, const std::string& body = {},
              Ms timeout = Ms(10000));
inline Reply get(const Endpoint& endpoint, const std::string& target,
                 const std::vector<std::string>& headers = {}) {
  return request(endpoint, "GET", target, headers);
}

}  // namespace otpd::http_test
