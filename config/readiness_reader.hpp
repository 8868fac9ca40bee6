// Readers for `ready:` and the keys that go with it (start_timeout,
// watchdog) on a process child.
#pragma once

#include "config/spec.hpp"
#include "config/yaml_reader.hpp"

namespace otpd::config {

// notify | {fd: N} | {tcp: PORT | "HOST:PORT"} | {exec: [cmd, ...] | "script"}
// | {delay: DURATION}; tcp and exec take an `interval` too.
Readiness read_readiness(const Field& field);
// A duration or `infinity` (nullopt).
std::optional<Duration> read_start_timeout(const Field& field);

// Shared with the health check worker:
// PORT, "PORT", "HOST:PORT" or "[IPV6]:PORT", HOST numeric (127.0.0.1 when omitted).
void read_tcp_address(const Field& field, std::string& host, int& port);
// [program, arg, ...] or "a shell command line".
void read_probe_command(const Field& field, std::vector<std::string>& argv, bool& via_shell);

}  // namespace otpd::config
