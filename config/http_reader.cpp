#include "config/http_reader.hpp"

#include <arpa/inet.h>

#include <array>
#include <filesystem>

namespace otpd::config {
namespace {

constexpr std::size_t kMaxSocketPath = 107;  // sun_path, less its NUL
constexpr int kMaxConnections = 100000;
constexpr std::size_t kMaxAllowedHosts = 64;
constexpr std::size_t kMaxHostName = 253;

struct HttpKey {
  std::string_view name;
  void (*read)(const Field&, HttpSpec&);
};

std::string absolute(const Field& field, const std::string& written) {
  std::filesystem::path path(written);
  if (path.is_relative()) path = std::filesystem::path(field.source().base_dir.str()) / path;
  return path.lexically_normal().string();
}

// A path (it has a '/') is a Unix socket; anything else must be a numeric
// address and a port, so that otpd never resolves names at start.
void read_listen(const Field& field, HttpSpec& http) {
  const std::string written = field.non_empty_text();
  if (written.find('/') != std::string::npos) {
    const std::string path = absolute(field, written);
    if (path.size() > kMaxSocketPath) {
      field.fail("'" + path + "' is " + std::to_string(path.size()) +
                 " bytes long; a Unix socket path may have at most " +
                 std::to_string(kMaxSocketPath));
    }
    http.listen = path;
    return;
  }
  std::string host;
  int port = 0;
  if (!split_listen_address(written, host, port)) {
    field.fail_expected(
        "ADDRESS:PORT with a numeric address, such as 127.0.0.1:9100 or "
        "[::1]:9100, or a Unix socket path such as ./otpd-http.sock");
  }
  http.listen = written;
  http.host = host;
  http.port = port;
}

void read_token_file(const Field& field, HttpSpec& http) {
  http.admin_token_file = absolute(field, field.non_empty_text());
}

void read_allowed_hosts(const Field& field, HttpSpec& http) {
  field.require_list("a list of host names, such as [otpd.example.com]");
  const auto elements = field.elements();
  if (elements.size() > kMaxAllowedHosts) {
    field.fail("at most " + std::to_string(kMaxAllowedHosts) + " host names");
  }
  for (const Field& element : elements) {
    const std::string name = element.non_empty_text();
    if (name.size() > kMaxHostName || name.find_first_of(" /:\t") != std::string::npos) {
      element.fail_expected("a host name without port, such as otpd.example.com");
    }
    http.allowed_hosts.push_back(name);
  }
}

constexpr std::array<HttpKey, 4> kHttpKeys{{
    {"listen", read_listen},
    {"admin_token_file", read_token_file},
    {"max_connections",
     [](const Field& f, HttpSpec& h) {
       h.max_connections = static_cast<int>(f.integer(1, kMaxConnections));
     }},
    {"allowed_hosts", read_allowed_hosts},
}};

}  // namespace

bool split_listen_address(const std::string& text, std::string& host, int& port) {
  std::string address;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    address = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    in6_addr v6{};
    if (inet_pton(AF_INET6, address.c_str(), &v6) != 1) return false;
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return false;
    address = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    in_addr v4{};
    if (inet_pton(AF_INET, address.c_str(), &v4) != 1) return false;
  }
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  const int number = std::stoi(port_text);
  if (number < 1 || number > 65535) return false;
  host = address;
  port = number;
  return true;
}

HttpSpec read_http(const Field& field) {
  field.require_mapping(
      "a mapping with listen, admin_token_file, max_connections and "
      "allowed_hosts");
  std::vector<std::string_view> names;
  for (const HttpKey& key : kHttpKeys) names.push_back(key.name);

  HttpSpec http;
  for (const Field& entry : field.entries()) {
    const HttpKey* key = nullptr;
    for (const HttpKey& candidate : kHttpKeys) {
      if (candidate.name == entry.key()) key = &candidate;
    }
    if (!key) fail_unknown_key(entry, names);
    key->read(entry, http);
  }
  if (http.listen.empty()) field.fail("needs 'listen': an ADDRESS:PORT or a Unix socket path");
  return http;
}

}  // namespace otpd::config
