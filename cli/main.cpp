// otpctl: wiring only. Parse the command line, pick the socket and the
// style, run the command.
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cli/arguments.hpp"
#include "cli/client_names.hpp"
#include "cli/help.hpp"
#include "cli/output.hpp"
#include "cli/run.hpp"
#include "protocol/version.hpp"

int main(int argc, char** argv) {
  using namespace otpd::ctl;
  // A closed socket or stdout is an error to report, not a reason to die.
  std::signal(SIGPIPE, SIG_IGN);

  const auto parsed = parse_arguments(std::vector<std::string>(argv + 1, argv + argc));
  if (const auto* usage = std::get_if<UsageError>(&parsed)) {
    complain(usage->message);
    print_error(short_usage(usage->command));
    return exit_usage;
  }
  const Invocation& invocation = std::get<Invocation>(parsed);
  try {
    if (invocation.version) {
      print("otpctl " OTPD_VERSION " (protocol " +
            std::to_string(otpd::protocol::kProtocolVersion) + ")\n");
      return exit_ok;
    }
    if (invocation.help) {
      print(full_help(invocation.command));
      return exit_ok;
    }
  } catch (const StdoutClosed&) {
    return exit_ok;
  } catch (const std::exception& e) {
    complain(e.what());
    return exit_refused;
  }
  const Getenv getenv = [](const char* name) { return std::getenv(name); };
  const SocketChoice socket = choose_socket(invocation.socket, getenv, getuid());
  if (!socket.also_looked.empty() && invocation.command != Command::help) {
    // Nothing at any of the places otpd may listen: no use trying one.
    complain("cannot connect to " + socket.path + ": " + std::strerror(ENOENT) + ", " +
             also_looked_note(socket.also_looked) +
             " (is otpd running? use --socket or OTPD_SOCKET)");
    return answers_like_systemctl(invocation.command) ? exit_unknown : exit_unreachable;
  }
  const Context context{invocation, socket.path,
                        choose_style(invocation.no_color, isatty(STDOUT_FILENO) == 1, getenv)};
  const char* socket_env = getenv(otpd::protocol::kSocketVariable);
  const bool chosen = invocation.socket || (socket_env != nullptr && *socket_env != '\0');
  const std::optional<std::string> distrust =
      invocation.command == Command::help ? std::nullopt
                                          : socket_distrust(context.socket_path, chosen, getuid());
  if (distrust) {
    complain(*distrust);
    return answers_like_systemctl(invocation.command) ? exit_unknown : exit_unreachable;
  }
  return run(context);
}
