// otpd-test-probe [OUT|-] [NAME...]
//
// A child for tests to start: it writes what it finds about its own process
// as key=value lines to OUT (stdout when absent or "-"), so that a test can
// check what the spawner did. The descriptors are listed before anything is
// opened, so the list shows exactly what the child inherited.
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inherited_fds.h"

static const char* disposition(int signo) {
  struct sigaction current;
  if (sigaction(signo, NULL, &current) != 0) return "error";
  if (current.sa_handler == SIG_IGN) return "ignored";
  if (current.sa_handler == SIG_DFL) return "default";
  return "handled";
}

// The blocked set as one hex word, bit (signo - 1) for each signal.
static unsigned long long blocked_mask(void) {
  sigset_t blocked;
  sigprocmask(SIG_SETMASK, NULL, &blocked);
  unsigned long long mask = 0;
  for (int signo = 1; signo < NSIG && signo <= 64; ++signo) {
    if (sigismember(&blocked, signo) == 1) mask |= 1ULL << (signo - 1);
  }
  return mask;
}

int main(int argc, char** argv) {
  char fds[4096];
  inherited_fds(fds, sizeof fds, "");

  FILE* out = stdout;
  if (argc > 1 && strcmp(argv[1], "-") != 0) {
    out = fopen(argv[1], "we");
    if (out == NULL) {
      perror(argv[1]);
      return 2;
    }
  }

  char cwd[PATH_MAX];
  char stdin_target[PATH_MAX];
  ssize_t len = readlink("/proc/self/fd/0", stdin_target, sizeof stdin_target - 1);
  stdin_target[len < 0 ? 0 : len] = '\0';
  struct rlimit nofile;
  getrlimit(RLIMIT_NOFILE, &nofile);

  fprintf(out, "pid=%d\n", (int)getpid());
  fprintf(out, "ppid=%d\n", (int)getppid());
  fprintf(out, "pgid=%d\n", (int)getpgid(0));
  fprintf(out, "sid=%d\n", (int)getsid(0));
  fprintf(out, "cwd=%s\n", getcwd(cwd, sizeof cwd) ? cwd : "error");
  fprintf(out, "fds=%s\n", fds);
  fprintf(out, "sigmask=%llx\n", blocked_mask());
  fprintf(out, "sigpipe=%s\n", disposition(SIGPIPE));
  fprintf(out, "sigterm=%s\n", disposition(SIGTERM));
  fprintf(out, "nofile_soft=%llu\n", (unsigned long long)nofile.rlim_cur);
  fprintf(out, "nofile_hard=%llu\n", (unsigned long long)nofile.rlim_max);
  fprintf(out, "stdin=%s\n", stdin_target);
  uid_t ruid, euid, suid;
  gid_t rgid, egid, sgid;
  getresuid(&ruid, &euid, &suid);
  getresgid(&rgid, &egid, &sgid);
  fprintf(out, "uids=%u,%u,%u\n", (unsigned)ruid, (unsigned)euid, (unsigned)suid);
  fprintf(out, "gids=%u,%u,%u\n", (unsigned)rgid, (unsigned)egid, (unsigned)sgid);
  gid_t groups[64];
  const int count = getgroups(64, groups);
  fprintf(out, "groups=");
  for (int i = 0; i < count; ++i) fprintf(out, "%s%u", i ? "," : "", (unsigned)groups[i]);
  fprintf(out, "\n");
  const mode_t mask = umask(0);
  fprintf(out, "umask=%04o\n", (unsigned)mask);
  // Not RLIMIT_CORE: AddressSanitizer sets that to 0 in a sanitized probe.
  struct rlimit fsize;
  getrlimit(RLIMIT_FSIZE, &fsize);
  fprintf(out, "fsize_soft=%llu\n", (unsigned long long)fsize.rlim_cur);
  int parent_death_signal = -1;
  prctl(PR_GET_PDEATHSIG, &parent_death_signal, 0, 0, 0);
  fprintf(out, "pdeathsig=%d\n", parent_death_signal);
  // The cgroup v2 line of /proc/self/cgroup ("0::/path"): its path.
  FILE* cgroups = fopen("/proc/self/cgroup", "re");
  char line[PATH_MAX];
  while (cgroups != NULL && fgets(line, sizeof line, cgroups) != NULL) {
    if (strncmp(line, "0::", 3) == 0) fprintf(out, "cgroup=%s", line + 3);
  }
  if (cgroups != NULL) fclose(cgroups);
  for (int i = 2; i < argc; ++i) {
    const char* value = getenv(argv[i]);
    fprintf(out, "env.%s=%s\n", argv[i], value ? value : "(unset)");
  }
  return fclose(out) == 0 ? 0 : 2;
}
