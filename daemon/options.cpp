#include "options.hpp"

#include <cstddef>

namespace otpd {

#define OTPD_SYNOPSIS                                                                    \
  "Usage: otpd --config FILE [--socket PATH] [--log-format human|json] [--no-cgroups]\n" \
  "       otpd [--config FILE] [OPTIONS] -- COMMAND [ARGS...]\n"                         \
  "       otpd check FILE\n"                                                             \
  "       otpd check --diff FILE [--json] [--socket PATH]\n"                             \
  "       otpd --help | --version\n"

const char* const usage_synopsis = OTPD_SYNOPSIS "Run 'otpd --help' for the options.\n";

const char* const usage_text = OTPD_SYNOPSIS
    "\n"
    "Runs the supervision tree described in FILE in the foreground: children\n"
    "start in order, are restarted by their supervisor's strategy, and stop in\n"
    "reverse order on SIGTERM or SIGINT (a second one kills at once) or on\n"
    "otpctl shutdown. SIGHUP (or otpctl reload) reads FILE again and applies\n"
    "the changes; an invalid FILE changes nothing.\n"
    "\n"
    "  -c, --config FILE      the tree to run (see docs/config.md)\n"
    "  -- COMMAND [ARGS...]   run COMMAND as the tree's last child, the one whose\n"
    "                         end ends otpd with its exit status, as tini does:\n"
    "                         with FILE, beside its tree; without, alone.\n"
    "                         SIGUSR1 and SIGUSR2 (and SIGHUP without FILE) are\n"
    "                         passed on to it; otpctl knows it as 'main'\n"
    "      --socket PATH      the control socket otpctl talks to; default:\n"
    "                         $OTPD_SOCKET, else control.socket in FILE, else\n"
    "                         /run/otpd/otpd.sock as root,\n"
    "                         $XDG_RUNTIME_DIR/otpd.sock otherwise, or\n"
    "                         /tmp/otpd-UID/otpd.sock without XDG_RUNTIME_DIR\n"
    "      --log-format FMT   human (default) or json: one JSON object per line\n"
    "      --no-cgroups       do not put children in cgroups even where otpd could;\n"
    "                         they get PR_SET_PDEATHSIG and a record by pid and\n"
    "                         start time instead (for tests, and containers whose\n"
    "                         cgroups belong to someone else)\n"
    "  -h, --help             show this help\n"
    "  -V, --version          show the version\n"
    "\n"
    "  check FILE             validate FILE and exit 0 if it is valid, 1 if not\n"
    "  check --diff FILE      validate FILE, then show what a reload of the running\n"
    "                         otpd (found as otpctl finds it) to FILE would do:\n"
    "                         '+ PATH' added, '- PATH' removed, '~ PATH (what)'\n"
    "                         changed; --json for otpd's answer as JSON. Exits 3\n"
    "                         when no otpd answers\n"
    "\n"
    "Exit status: 0 after an orderly stop; 1 when the tree failed to start,\n"
    "its root supervisor gave up or the control socket could not be created\n"
    "(another otpd listening on it, say); 2 on a usage or configuration error.\n"
    "With -- COMMAND: COMMAND's own exit status (128 + N when killed by signal N).\n";

std::optional<Options> parse_options(const std::vector<std::string>& args, std::string& error) {
  Options options;
  auto value_of = [&](std::size_t& i, const std::string& flag) -> std::optional<std::string> {
    const std::string& arg = args[i];
    if (arg.size() > flag.size() && arg.compare(0, flag.size() + 1, flag + "=") == 0) {
      return arg.substr(flag.size() + 1);
    }
    if (i + 1 >= args.size()) {
      error = flag + " needs a value";
      return std::nullopt;
    }
    return args[++i];
  };
  auto is_flag = [](const std::string& arg, const std::string& name) {
    return arg == name || arg.rfind(name + "=", 0) == 0;
  };

  std::vector<std::string> positional;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      options.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      if (options.command.empty()) {
        error = "-- needs a command to run";
        return std::nullopt;
      }
      break;
    }
    if (arg == "-h" || arg == "--help") {
      options.mode = Options::Mode::help;
      return options;
    }
    if (arg == "-V" || arg == "--version") {
      options.mode = Options::Mode::version;
      return options;
    }
    if (arg == "-c" || is_flag(arg, "--config")) {
      auto value = value_of(i, arg == "-c" ? "-c" : "--config");
      if (!value) return std::nullopt;
      options.config_file = *value;
    } else if (is_flag(arg, "--socket")) {
      auto value = value_of(i, "--socket");
      if (!value) return std::nullopt;
      if (value->empty()) {
        error = "--socket needs a path";
        return std::nullopt;
      }
      options.socket_path = *value;
    } else if (is_flag(arg, "--log-format")) {
      auto value = value_of(i, "--log-format");
      if (!value) return std::nullopt;
      if (*value == "human") {
        options.log_format = log::Format::human;
      } else if (*value == "json") {
        options.log_format = log::Format::json;
      } else {
        error = "--log-format must be human or json, not '" + *value + "'";
        return std::nullopt;
      }
    } else if (arg == "--no-cgroups") {
      options.no_cgroups = true;
    } else if (arg == "--diff") {
      options.diff = true;
    } else if (arg == "--json") {
      options.json = true;
    } else if (arg.size() > 1 && arg[0] == '-') {
      error = "unknown option '" + arg + "'";
      return std::nullopt;
    } else {
      positional.push_back(arg);
    }
  }

  if (!positional.empty() && positional[0] == "check") {
    if (!options.command.empty()) {
      error = "check takes no -- COMMAND";
      return std::nullopt;
    }
    if (positional.size() != 2) {
      error = "check takes exactly one FILE";
      return std::nullopt;
    }
    options.mode = Options::Mode::check;
    options.config_file = positional[1];
    if (options.json && !options.diff) {
      error = "--json goes with check --diff";
      return std::nullopt;
    }
    return options;
  }
  if (options.diff || options.json) {
    error = std::string(options.diff ? "--diff" : "--json") + " goes with check --diff FILE";
    return std::nullopt;
  }
  if (!positional.empty()) {
    error = "unexpected argument '" + positional[0] + "'";
    return std::nullopt;
  }
  if (options.config_file.empty() && options.command.empty()) {
    error = "no configuration given: use --config FILE, or -- COMMAND";
    return std::nullopt;
  }
  return options;
}

}  // namespace otpd
