#include "config/readiness_reader.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace otpd::config {
namespace {

constexpr std::string_view kExpected =
    "notify, or a mapping with one of fd, tcp, exec or delay (such as {fd: 3}, {tcp: 8080}, "
    "{exec: [pg_isready]} or {delay: 2s})";
constexpr std::array<std::string_view, 4> kMethods{"fd", "tcp", "exec", "delay"};
// Descriptors above this are refused: a program sizes nothing by them, but
// a child's open-file limit may be as low as 1024.
constexpr int kHighestReadyFd = 1023;
// How far a probe command's wait grows while the program starts.
constexpr Duration kExecMaxInterval{2000};

bool is_address(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

}  // namespace

// 8080, "8080", "127.0.0.1:8080" or "[::1]:8080".
void read_tcp_address(const Field& field, std::string& out_host, int& out_port) {
  const std::string expected =
      "a port, or an address and port such as 127.0.0.1:8080 or [::1]:8080";
  if (!field.node().IsScalar()) field.fail_expected(expected);
  const std::string written = field.text();
  std::string host = "127.0.0.1";
  std::string port = written;
  if (const auto colon = written.rfind(':'); colon != std::string::npos) {
    host = written.substr(0, colon);
    port = written.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
      if (host.find(':') == std::string::npos) field.fail_expected(expected);
    } else if (host.find(':') != std::string::npos) {
      field.fail_expected(expected, " (write an IPv6 address in brackets: [::1]:8080)");
    }
    if (!is_address(host)) {
      field.fail_expected(expected,
                          " ('" + host + "' is not a numeric address; names are not resolved)");
    }
  }
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoi(port) < 1 || std::stoi(port) > 65535) {
    field.fail_expected(expected, " (a port is a number from 1 to 65535)");
  }
  out_host = host;
  out_port = std::stoi(port);
}

void read_probe_command(const Field& field, std::vector<std::string>& argv, bool& via_shell) {
  argv.clear();
  if (field.node().IsScalar()) {
    argv = {"/bin/sh", "-c", field.script_text()};
    via_shell = true;
    return;
  }
  field.require_list("a list of strings (a command) or a string (a shell command line)");
  for (const Field& element : field.elements()) argv.push_back(element.text());
  if (argv.empty()) field.fail("must name at least the program to run");
  if (argv.front().empty()) field.elements().front().fail("the program name must not be empty");
  via_shell = false;
}

Readiness read_readiness(const Field& field) {
  Readiness ready;
  if (field.node().IsScalar()) {
    const std::string written = field.text();
    if (written == "notify") {
      ready.kind = Readiness::Kind::notify;
      return ready;
    }
    std::vector<std::string_view> words{"notify"};
    words.insert(words.end(), kMethods.begin(), kMethods.end());
    field.fail_expected(std::string(kExpected), did_you_mean(written, words));
  }
  if (!field.node().IsMap()) field.fail_expected(std::string(kExpected));

  const std::vector<Field> entries = field.entries();
  const Field* method = nullptr;
  const Field* interval = nullptr;
  const Field* max_interval = nullptr;
  for (const Field& entry : entries) {
    const std::string key = entry.key();
    if (key == "interval") {
      interval = &entry;
      continue;
    }
    if (key == "max_interval") {
      max_interval = &entry;
      continue;
    }
    if (std::find(kMethods.begin(), kMethods.end(), key) == kMethods.end()) {
      std::vector<std::string_view> valid(kMethods.begin(), kMethods.end());
      valid.push_back("interval");
      valid.push_back("max_interval");
      fail_unknown_key(entry, valid);
    }
    if (method != nullptr) {
      throw ConfigError(entry.key_location(), field.label() + ": '" + key +
                                                  "' cannot be combined with '" + method->key() +
                                                  "': a child is ready in one way");
    }
    method = &entry;
  }
  if (method == nullptr) {
    throw ConfigError(field.value_location(),
                      field.label() + ": expected one of fd, tcp, exec or delay");
  }

  const std::string key = method->key();
  if (key == "fd") {
    ready.kind = Readiness::Kind::fd;
    ready.fd = static_cast<int>(method->integer(3, kHighestReadyFd));
  } else if (key == "tcp") {
    ready.kind = Readiness::Kind::tcp;
    read_tcp_address(*method, ready.host, ready.port);
  } else if (key == "exec") {
    ready.kind = Readiness::Kind::exec;
    read_probe_command(*method, ready.argv, ready.via_shell);
  } else {
    ready.kind = Readiness::Kind::delay;
    ready.delay = method->positive_duration();
  }
  for (const Field* timing : {interval, max_interval}) {
    if (timing != nullptr && ready.kind != Readiness::Kind::tcp &&
        ready.kind != Readiness::Kind::exec) {
      throw ConfigError(
          timing->key_location(),
          field.label() + ": '" + timing->key() + "' applies only to tcp and exec, not to " + key);
    }
  }
  if (interval != nullptr) ready.interval = interval->positive_duration();
  // A probe command costs the program a connection, a login, a log line:
  // it backs off by default. A connection attempt costs nearly nothing,
  // and its readiness is seen within one interval.
  if (ready.kind == Readiness::Kind::exec) ready.max_interval = kExecMaxInterval;
  if (max_interval != nullptr) {
    ready.max_interval = max_interval->positive_duration();
    if (ready.max_interval < ready.interval) {
      throw ConfigError(max_interval->value_location(),
                        field.label() + ": max_interval (" + format_duration(ready.max_interval) +
                            ") is shorter than interval (" + format_duration(ready.interval) + ")");
    }
  }
  return ready;
}

std::optional<Duration> read_start_timeout(const Field& field) {
  const std::string expected = "infinity or a duration such as 30s";
  if (!field.node().IsScalar()) field.fail_expected(expected);
  const std::string written = field.text();
  if (written == "infinity") return std::nullopt;
  if (!written.empty() && std::isalpha(static_cast<unsigned char>(written.front()))) {
    field.fail_expected(expected, did_you_mean(written, {"infinity"}));
  }
  return field.positive_duration();
}

}  // namespace otpd::config
