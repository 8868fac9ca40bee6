#include "cli/commands.hpp"

#include <array>

namespace otpd::ctl {
namespace {

constexpr std::array<CommandSpec, 19> kSpecs{{
    {Command::status, "status", "[PATH]", "show the tree, or the subtree at PATH", opt_json,
     Operands::optional_path},
    {Command::is_active, "is-active", "[PATH...]",
     "exit 0 if the nodes at PATH (default: the root) run", opt_json | opt_quiet,
     Operands::optional_paths},
    {Command::start, "start", "PATH...", "start children that were stopped", opt_json,
     Operands::paths},
    {Command::stop, "stop", "PATH...", "stop children and keep them stopped", opt_json,
     Operands::paths},
    {Command::restart, "restart", "PATH...", "stop children, then start them again", opt_json,
     Operands::paths},
    {Command::signal, "signal", "SIGNAL PATH...", "send a signal to the processes at PATH",
     opt_json, Operands::signal_then_paths},
    {Command::events, "events", "", "show recent events, or follow new ones",
     opt_json | opt_follow | opt_lines, Operands::none},
    {Command::logs, "logs", "PATH", "show a child's recent output, or follow it",
     opt_json | opt_follow | opt_lines | opt_streams, Operands::one_path},
    {Command::shutdown, "shutdown", "", "stop the whole tree; otpd then exits", 0, Operands::none},
    {Command::reload, "reload", "", "read the config file again and apply the changes",
     opt_json | opt_dry_run, Operands::none},
    {Command::start_child, "start-child", "SUP SPEC|-|--file FILE",
     "add a child to the dynamic supervisor SUP and start it", opt_json | opt_file,
     Operands::supervisor_spec},
    {Command::terminate_child, "terminate-child", "SUP NAME",
     "stop a dynamic supervisor's child and remove it", opt_json, Operands::supervisor_name},
    {Command::ping, "ping", "", "check that otpd answers, and how fast", 0, Operands::none},
    {Command::version, "version", "", "show the versions of otpctl, otpd and the protocol",
     opt_json, Operands::none},
    {Command::call, "call", "PATH MESSAGE", "send a worker a JSON message and print its reply",
     opt_json, Operands::path_then_message},
    {Command::cast, "cast", "PATH MESSAGE", "send a worker a JSON message without a reply",
     opt_json, Operands::path_then_message},
    {Command::whereis, "whereis", "PATH", "show whether and where a worker runs", opt_json,
     Operands::one_path},
    {Command::health, "health", "",
     "exit 0 when the tree is ready (or, with --live, when otpd answers)", opt_json | opt_live,
     Operands::none},
    {Command::help, "help", "[COMMAND]", "show help for otpctl or for one command", 0,
     Operands::optional_command},
}};

}  // namespace

std::span<const CommandSpec> command_specs() {
  return kSpecs;
}

const CommandSpec& spec_of(Command command) {
  for (const CommandSpec& spec : kSpecs) {
    if (spec.command == command) return spec;
  }
  return kSpecs.back();
}

std::optional<Command> command_named(std::string_view name) {
  for (const CommandSpec& spec : kSpecs) {
    if (spec.name == name) return spec.command;
  }
  return std::nullopt;
}

}  // namespace otpd::ctl
