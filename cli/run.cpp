#include "cli/run.hpp"

#include "cli/client.hpp"
#include "cli/output.hpp"

namespace otpd::ctl {

bool answers_like_systemctl(Command command) {
  return command == Command::status || command == Command::is_active;
}

int run(const Context& context) {
  try {
    switch (context.invocation.command) {
      case Command::status:
        return run_status(context);
      case Command::is_active:
        return run_is_active(context);
      case Command::start:
      case Command::stop:
      case Command::restart:
        return run_operation(context);
      case Command::signal:
        return run_signal(context);
      case Command::events:
        return run_events(context);
      case Command::logs:
        return run_logs(context);
      case Command::shutdown:
        return run_shutdown(context);
      case Command::reload:
        return run_reload(context);
      case Command::start_child:
        return run_start_child(context);
      case Command::terminate_child:
        return run_terminate_child(context);
      case Command::ping:
        return run_ping(context);
      case Command::version:
        return run_version(context);
      case Command::call:
        return run_call(context);
      case Command::cast:
        return run_cast(context);
      case Command::whereis:
        return run_whereis(context);
      case Command::health:
        return run_health(context);
      case Command::help:
        break;  // answered before any connection
    }
    return exit_ok;
  } catch (const StdoutClosed&) {
    return exit_ok;
  } catch (const Unreachable& e) {
    complain(e.what());
    return answers_like_systemctl(context.invocation.command) ? exit_unknown : exit_unreachable;
  } catch (const Refused& e) {
    complain(e.what());
    return exit_refused;
  } catch (const std::exception& e) {
    complain(e.what());
    return exit_refused;
  }
}

}  // namespace otpd::ctl
