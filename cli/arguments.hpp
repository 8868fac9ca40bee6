// otpctl's command line: `otpctl [GLOBAL OPTIONS] COMMAND [ARGS] [OPTIONS]`.
// Options may come before or after the command; `--` ends them.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cli/commands.hpp"
#include "cli/duration_text.hpp"

namespace otpd::ctl {

inline constexpr Ms default_timeout{10'000};
inline constexpr int max_backlog = 1000;       // what otpd sends at most
inline constexpr int max_log_lines = 1000000;  // the largest buffer a config may set

struct Invocation {
  Command command = Command::help;
  bool help = false;     // -h/--help, `otpctl help [COMMAND]`: show help for `command`
  bool version = false;  // --version: otpctl's own version, without asking otpd

  std::optional<std::string> socket;
  Ms timeout = default_timeout;
  bool json = false;
  bool no_color = false;
  bool follow = false;
  bool dry_run = false;        // reload --dry-run
  bool live = false;           // health --live
  std::optional<int> backlog;  // -n N
  bool only_stdout = false;    // logs --stdout
  bool only_stderr = false;    // logs --stderr
  bool quiet = false;          // is-active --quiet

  std::string signal;  // signal SIGNAL ...
  // start-child: the spec as given (SPEC, or "-" for stdin), or --file F.
  std::string spec;
  std::string spec_file;
  std::string child_name;  // terminate-child SUP NAME
  // status [PATH]; logs PATH; start|stop|restart|signal PATH...; SUP of
  // start-child and terminate-child.
  std::vector<std::string> paths;
  std::string message;              // call, cast: the message as JSON text
  bool message_from_stdin = false;  // call, cast: MESSAGE was "-"
};

struct UsageError {
  std::string message;
  std::optional<Command> command;  // whose usage to show, when known
};

// A message is JSON text, or a bare word (get) that stands for the JSON
// string "get"; `json` gets the JSON text. False when it is neither.
bool message_json(const std::string& written, std::string& json);

std::variant<Invocation, UsageError> parse_arguments(const std::vector<std::string>& args);

}  // namespace otpd::ctl
