// Results on stdout, complaints on stderr, each written straight to its
// descriptor so that a line streamed by `events --follow` is seen at once.
#pragma once

#include <string_view>

namespace otpd::ctl {

// Whoever read stdout has gone (`otpctl events -f | head`): nothing is left
// to do and nothing went wrong, so otpctl ends quietly with status 0.
struct StdoutClosed {};

// Writes `text` to stdout; throws StdoutClosed, or std::runtime_error when
// stdout cannot be written for another reason.
void print(std::string_view text);

// "otpctl: " + `message` + newline on stderr, as well as stderr allows.
void complain(std::string_view message);

// `text` on stderr as is.
void print_error(std::string_view text);

}  // namespace otpd::ctl
