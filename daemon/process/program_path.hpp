// Which file a child will execute, decided in the parent so that a missing
// command fails without creating a process.
#pragma once

#include <string>

namespace otpd::process {

struct ProgramPath {
  std::string path;   // what to pass to execve
  std::string error;  // "command not found: NAME", when path is empty
};

// `name` with a '/' is used as written (a relative one is resolved by execve
// against the child's cwd). A bare name is searched in `search_path`, the
// PATH the child will have (nullptr: the system default), with relative
// entries taken against `cwd` when it is set.
ProgramPath resolve_program(const std::string& name, const char* search_path,
                            const std::string& cwd);

}  // namespace otpd::process
