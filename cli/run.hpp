// Carries out a parsed command line against otpd; returns the exit status.
#pragma once

#include <string>

#include "cli/arguments.hpp"
#include "cli/style.hpp"

namespace otpd::ctl {

inline constexpr int exit_ok = 0;
inline constexpr int exit_refused = 1;  // otpd said no, or failed
inline constexpr int exit_usage = 2;
inline constexpr int exit_unreachable = 3;
// status and is-active answer as systemctl and LSB init scripts do: 0 when
// everything asked about runs, 3 when something does not, 4 when that
// cannot be known (otpd unreachable, no such PATH).
inline constexpr int exit_not_running = 3;
inline constexpr int exit_unknown = 4;

struct Context {
  const Invocation& invocation;
  std::string socket_path;
  Style style;
};

int run(const Context& context);
// status and is-active: exit_unknown where other commands exit_unreachable.
bool answers_like_systemctl(Command command);

// The commands, one group per file.
int run_status(const Context& context);
int run_is_active(const Context& context);
int run_ping(const Context& context);
int run_health(const Context& context);
int run_version(const Context& context);
int run_operation(const Context& context);  // start, stop, restart
int run_signal(const Context& context);
int run_shutdown(const Context& context);
int run_reload(const Context& context);
int run_start_child(const Context& context);
int run_terminate_child(const Context& context);
int run_events(const Context& context);
int run_logs(const Context& context);
int run_call(const Context& context);
int run_cast(const Context& context);
int run_whereis(const Context& context);

}  // namespace otpd::ctl
