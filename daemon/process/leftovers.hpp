// Processes that are otpd's children without being the tree's: orphans of
// the tree re-parented to otpd (as PID 1 or child subreaper) that are still
// running once the tree has stopped, such as a daemon a child started in a
// session of its own, out of reach of the signals to its process group.
#pragma once

namespace otpd::process {

// Sends `signo` to every live child of otpd and returns how many there
// were. Children are found in /proc by their parent pid; zombies are left
// to the reaper.
int signal_leftovers(int signo);

}  // namespace otpd::process
