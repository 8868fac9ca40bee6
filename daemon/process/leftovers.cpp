#include "process/leftovers.hpp"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace otpd::process {
namespace {

// The state and parent pid from /proc/PID/stat: "PID (COMM) S PPID ...".
// COMM may hold spaces and parentheses, so the fields start after the
// last ')'.
bool read_stat(const char* pid, char& state, long& parent) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%s/stat", pid);
  FILE* file = std::fopen(path, "re");
  if (!file) return false;
  char text[512];
  const std::size_t n = std::fread(text, 1, sizeof text - 1, file);
  std::fclose(file);
  text[n] = '\0';
  const char* end = std::strrchr(text, ')');
  return end && std::sscanf(end + 1, " %c %ld", &state, &parent) == 2;
}

}  // namespace

int signal_leftovers(int signo) {
  DIR* proc = opendir("/proc");
  if (!proc) return 0;
  const long self = getpid();
  int signalled = 0;
  while (const dirent* entry = readdir(proc)) {
    const char* name = entry->d_name;
    if (name[0] < '1' || name[0] > '9') continue;
    char state = 0;
    long parent = 0;
    if (!read_stat(name, state, parent) || parent != self || state == 'Z') continue;
    if (kill(static_cast<pid_t>(std::atol(name)), signo) == 0) ++signalled;
  }
  closedir(proc);
  return signalled;
}

}  // namespace otpd::process
