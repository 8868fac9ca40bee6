// Signal names as users write them in a config file and read them in logs.
#pragma once

#include <string>

namespace otpd::config {

// "SIGTERM" for 15; "signal 64" when the number has no name.
std::string signal_name(int signo);
// Parses "SIGTERM", "TERM" (any case) or a number such as "15"; returns 0 when
// it names no signal.
int signal_number(const std::string& name);
// " (did you mean 'SIGTERM'?)" for a misspelt signal name, or "".
std::string signal_suggestion(const std::string& written);

}  // namespace otpd::config
