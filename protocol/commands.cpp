#include "protocol/commands.hpp"

#include <array>

namespace otpd::protocol {
namespace {

constexpr std::size_t kCount = static_cast<std::size_t>(Command::health) + 1;

// In the order of the enum, so that a command's index is its value.
constexpr std::array<std::string_view, kCount> kNames{
    "hello",       "version",         "ping",   "status", "start",    "stop",
    "restart",     "signal",          "events", "logs",   "shutdown", "reload",
    "start_child", "terminate_child", "call",   "cast",   "whereis",  "health"};

}  // namespace

std::string_view name_of(Command command) {
  return kNames[static_cast<std::size_t>(command)];
}

std::optional<Command> command_named(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Command>(i);
  }
  return std::nullopt;
}

std::span<const std::string_view> command_names() {
  return kNames;
}

bool is_read_only(Command command) {
  switch (command) {
    case Command::hello:
    case Command::version:
    case Command::ping:
    case Command::status:
    case Command::events:
    case Command::logs:
    case Command::whereis:
    case Command::health:
      return true;
    case Command::start:
    case Command::stop:
    case Command::restart:
    case Command::signal:
    case Command::shutdown:
    case Command::reload:
    case Command::start_child:
    case Command::terminate_child:
    case Command::call:
    case Command::cast:
      return false;
  }
  return false;
}

}  // namespace otpd::protocol
