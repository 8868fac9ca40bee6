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

}  // namespace otpd::config
