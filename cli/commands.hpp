// The commands otpctl knows, and which options and arguments each takes:
// one table that the parser, the help and the completion agree on.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace otpd::ctl {

enum class Command {
  status,
  is_active,
  start,
  stop,
  restart,
  signal,
  events,
  logs,
  shutdown,
  reload,
  start_child,
  terminate_child,
  ping,
  version,
  call,
  cast,
  whereis,
  health,
  help,
};

// Options beyond the global ones (--socket, --timeout, --no-color, --help).
enum OptionBit : unsigned {
  opt_json = 1u << 0,
  opt_follow = 1u << 1,
  opt_lines = 1u << 2,
  opt_streams = 1u << 3,  // --stdout, --stderr
  opt_dry_run = 1u << 4,
  opt_file = 1u << 5,   // start-child --file F
  opt_live = 1u << 6,   // health --live
  opt_quiet = 1u << 7,  // is-active --quiet
};

enum class Operands {
  none,
  optional_path,      // status [PATH]
  optional_paths,     // is-active [PATH...]
  one_path,           // logs PATH
  paths,              // start PATH...
  signal_then_paths,  // signal SIGNAL PATH...
  path_then_message,  // call PATH MESSAGE
  optional_command,   // help [COMMAND]
  supervisor_spec,    // start-child SUP SPEC|-, or SUP with --file
  supervisor_name,    // terminate-child SUP NAME
};

struct CommandSpec {
  Command command;
  std::string_view name;
  std::string_view operands_synopsis;  // "PATH...", "" when none
  std::string_view summary;
  unsigned options;  // OptionBit set
  Operands operands;
};

std::span<const CommandSpec> command_specs();
const CommandSpec& spec_of(Command command);
std::optional<Command> command_named(std::string_view name);

}  // namespace otpd::ctl
