// otpd's command line.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "log/event_log.hpp"

namespace otpd {

struct Options {
  enum class Mode { run, check, help, version };
  Mode mode = Mode::run;
  std::string config_file;
  std::string socket_path;  // --socket; empty: OTPD_SOCKET, the config, the default
  log::Format log_format = log::Format::human;
  bool diff = false;        // check --diff: ask the running otpd what a reload would do
  bool json = false;        // check --diff --json
  bool no_cgroups = false;  // --no-cgroups: the fallback even where cgroups work
  // otpd [OPTIONS] -- COMMAND ARGS...: the command, run as the tree's one
  // significant child (daemon/command_child.hpp); empty without `--`.
  std::vector<std::string> command;
};

// Parses argv; on a usage error returns nothing and sets `error`.
std::optional<Options> parse_options(const std::vector<std::string>& args, std::string& error);

// The usage lines alone, for a usage error; the whole help.
extern const char* const usage_synopsis;
extern const char* const usage_text;

}  // namespace otpd
