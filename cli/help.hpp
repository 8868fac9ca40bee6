// otpctl's help texts: the whole story for --help, a reminder for usage errors.
#pragma once

#include <optional>
#include <string>

#include "cli/commands.hpp"

namespace otpd::ctl {

// `otpctl --help` for Command::help, else `otpctl COMMAND --help`.
std::string full_help(Command command);

// A usage line and where to read more, printed after a usage error.
std::string short_usage(std::optional<Command> command);

}  // namespace otpd::ctl
