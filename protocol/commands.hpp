// The control protocol's commands (docs/protocol.md, Commands): their names
// on the wire and which of them change nothing.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace otpd::protocol {

enum class Command {
  hello,
  version,
  ping,
  status,
  start,
  stop,
  restart,
  signal,
  events,
  logs,
  shutdown,
  reload,
  start_child,      // add a child to a dynamic supervisor
  terminate_child,  // stop and remove a dynamic supervisor's child
  call,
  cast,
  whereis,
  health,  // whether the tree is ready (docs/http.md, "Probes")
};

// The name a request's "cmd" carries.
std::string_view name_of(Command command);
std::optional<Command> command_named(std::string_view name);
// Every command's name, in the order above: the candidates of a "did you
// mean" for an unknown one.
std::span<const std::string_view> command_names();
// Read commands are the ones `read_group` may use: they change nothing.
bool is_read_only(Command command);

}  // namespace otpd::protocol
