// Reads the `http:` section: where otpd serves metrics, probes and its
// status page, and the file holding the token that allows actions.
#pragma once

#include "config/spec.hpp"
#include "config/yaml_reader.hpp"

namespace otpd::config {

HttpSpec read_http(const Field& http);

// Splits "127.0.0.1:9100" or "[::1]:9100" into a numeric host and a port;
// false when `text` is neither.
bool split_listen_address(const std::string& text, std::string& host, int& port);

}  // namespace otpd::config
