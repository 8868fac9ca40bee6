// What otpd can tell an operator about well-known programs that do not
// behave as a supervised child must: how to keep one in the foreground, and
// how to make one send sd_notify's READY=1. Unknown programs get general
// advice.
#pragma once

#include <string>

#include "config/spec.hpp"

namespace otpd::supervise {

// The program a spec runs, as a reader knows it: the last part of argv[0],
// or of the first word a shell command line runs ("nginx" for
// `shell: "exec /usr/sbin/nginx -c ..."`).
std::string program_name(const config::ProcessSpec& spec);

// "nginx seems to daemonize: run it in the foreground (nginx: daemon off;)".
std::string daemonize_advice(const std::string& program);

// For a child with ready: notify from which no READY=1 came: how the
// program is told to send it ("redis-server: --supervised systemd"), or
// the general rule.
std::string notify_advice(const std::string& program);

}  // namespace otpd::supervise
