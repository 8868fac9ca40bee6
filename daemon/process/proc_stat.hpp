// What /proc says about one process: its parent, process group, start time
// and name, and which processes are its children. Nothing here throws; a
// process that is gone (or hidden) reads as nothing.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace otpd::process {

struct ProcStat {
  pid_t parent = 0;
  pid_t group = 0;
  char state = '?';         // R, S, D, Z, ...
  std::uint64_t start = 0;  // field 22: clock ticks after boot
};
// /proc/PID/stat. The name (field 2) is left out: it may hold spaces and
// parentheses, so the fields are counted after its last ')'.
std::optional<ProcStat> read_proc_stat(pid_t pid);
// The program's name as the kernel keeps it (/proc/PID/comm), or "".
std::string process_name(pid_t pid);
// The children of every thread of `pid` (/proc/PID/task/*/children, which
// the kernel has when built with CONFIG_PROC_CHILDREN, as Debian's is).
// Nothing when they cannot be read.
std::vector<pid_t> children_of(pid_t pid);

}  // namespace otpd::process
