// otpd-test-child --name N [--record FILE] [options]
//
// A supervised child whose life a test can script and then read back. Each
// line goes to FILE in one O_APPEND write(2), so that several children can
// share a file and the order of lines is the order of the events:
//
//   start N PID PGID      once running, with its SIGTERM handling in place
//   term N PID            SIGTERM arrived
//   exit N PID CODE       just before a voluntary exit
//   fds N LIST            --report-fds: inherited descriptors above 2 ("none")
//   mask N HEX            --report-mask: blocked signals at exec, bit signo-1
//   env N VAR=VALUE       --report-env VAR ("VAR unset" when absent)
//   cwd N DIR             --report-cwd
//   orphan N PID          --orphan: a descendant left to otpd (see below)
//
// FILE defaults to $OTPD_TEST_RECORD, so that a test's config can stay short.
// Options: --exit-after MS [--code C], --signal-after MS SIG (number or name
// such as KILL), --ignore-term (record SIGTERM, keep running), --term-delay
// MS (on SIGTERM wait MS, then exit 0). Without a scripted end it runs until
// a signal ends it; an unignored SIGTERM ends it by SIGTERM, as it would a
// program with no handler.
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inherited_fds.h"

static const char* name = "child";
static int record_fd = -1;
static volatile sig_atomic_t term_pending = 0;

static void record(const char* format, ...) {
  char line[4096];
  va_list args;
  va_start(args, format);
  int n = vsnprintf(line, sizeof line - 1, format, args);
  va_end(args);
  if (n < 0) return;
  if ((size_t)n > sizeof line - 2) n = sizeof line - 2;
  line[n++] = '\n';
  if (record_fd >= 0 && write(record_fd, line, (size_t)n) != n) _exit(99);
}

static void on_term(int signo) {
  (void)signo;
  term_pending = 1;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_signal(const char* text) {
  static const struct {
    const char* name;
    int signo;
  } known[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},
               {"ABRT", SIGABRT}, {"KILL", SIGKILL}, {"SEGV", SIGSEGV},
               {"TERM", SIGTERM}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}};
  if (strncmp(text, "SIG", 3) == 0) text += 3;
  for (size_t i = 0; i < sizeof known / sizeof known[0]; ++i) {
    if (strcmp(text, known[i].name) == 0) return known[i].signo;
  }
  return atoi(text);
}

static unsigned long long blocked_signals(void) {
  sigset_t blocked;
  sigprocmask(SIG_SETMASK, NULL, &blocked);
  unsigned long long mask = 0;
  for (int signo = 1; signo <= 64; ++signo) {
    if (sigismember(&blocked, signo) == 1) mask |= 1ULL << (signo - 1);
  }
  return mask;
}

// The leader forks a process that forks again and exits at once: the
// grandchild, still in the leader's process group, is re-parented to the
// nearest subreaper (otpd) and lives until a signal ends it.
static void leave_orphan(void) {
  pid_t middle = fork();
  if (middle < 0) _exit(98);
  if (middle == 0) {
    pid_t orphan = fork();
    if (orphan < 0) _exit(98);
    if (orphan == 0) {
      signal(SIGTERM, SIG_DFL);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, NULL);
      record("orphan %s %d", name, (int)getpid());
      for (;;) pause();
    }
    _exit(0);
  }
  waitpid(middle, NULL, 0);
}

static void die_by(int signo) {
  signal(signo, SIG_DFL);
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, signo);
  sigprocmask(SIG_UNBLOCK, &only, NULL);
  raise(signo);
  _exit(97);
}

static void leave(int code) {
  record("exit %s %d %d", name, (int)getpid(), code);
  _exit(code);
}

int main(int argc, char** argv) {
  char fds[4096];
  inherited_fds(fds, sizeof fds, "none");
  const unsigned long long mask_at_exec = blocked_signals();

  const char* record_path = NULL;
  long long exit_after = -1, signal_after = -1, term_delay = -1;
  int code = 0, signo = 0, ignore_term = 0, orphan = 0;
  int report_fds = 0, report_mask = 0, report_cwd = 0;
  const char* report_env[16];
  int env_count = 0;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    const int has_value = i + 1 < argc;
    if (strcmp(arg, "--name") == 0 && has_value) {
      name = argv[++i];
    } else if (strcmp(arg, "--record") == 0 && has_value) {
      record_path = argv[++i];
    } else if (strcmp(arg, "--exit-after") == 0 && has_value) {
      exit_after = atoll(argv[++i]);
    } else if (strcmp(arg, "--code") == 0 && has_value) {
      code = atoi(argv[++i]);
    } else if (strcmp(arg, "--signal-after") == 0 && i + 2 < argc) {
      signal_after = atoll(argv[++i]);
      signo = parse_signal(argv[++i]);
    } else if (strcmp(arg, "--term-delay") == 0 && has_value) {
      term_delay = atoll(argv[++i]);
    } else if (strcmp(arg, "--report-env") == 0 && has_value && env_count < 16) {
      report_env[env_count++] = argv[++i];
    } else if (strcmp(arg, "--ignore-term") == 0) {
      ignore_term = 1;
    } else if (strcmp(arg, "--orphan") == 0) {
      orphan = 1;
    } else if (strcmp(arg, "--report-fds") == 0) {
      report_fds = 1;
    } else if (strcmp(arg, "--report-mask") == 0) {
      report_mask = 1;
    } else if (strcmp(arg, "--report-cwd") == 0) {
      report_cwd = 1;
    } else {
      fprintf(stderr, "otpd-test-child: bad argument '%s'\n", arg);
      return 2;
    }
  }
  if (record_path == NULL) record_path = getenv("OTPD_TEST_RECORD");
  if (record_path != NULL) {
    record_fd = open(record_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (record_fd < 0) {
      perror(record_path);
      return 2;
    }
  }

  // SIGTERM stays blocked except inside ppoll(), so a signal is only ever
  // handled in the main loop, never in the middle of a record() call.
  sigset_t term_only, wait_mask;
  sigemptyset(&term_only);
  sigaddset(&term_only, SIGTERM);
  sigprocmask(SIG_BLOCK, &term_only, &wait_mask);
  sigdelset(&wait_mask, SIGTERM);
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_term;
  sigaction(SIGTERM, &action, NULL);

  if (orphan) leave_orphan();
  record("start %s %d %d", name, (int)getpid(), (int)getpgid(0));
  if (report_fds) record("fds %s %s", name, fds);
  if (report_mask) record("mask %s %llx", name, mask_at_exec);
  for (int i = 0; i < env_count; ++i) {
    const char* value = getenv(report_env[i]);
    if (value != NULL) {
      record("env %s %s=%s", name, report_env[i], value);
    } else {
      record("env %s %s unset", name, report_env[i]);
    }
  }
  if (report_cwd) {
    char cwd[PATH_MAX];
    record("cwd %s %s", name, getcwd(cwd, sizeof cwd) ? cwd : "error");
  }

  const long long began = now_ms();
  long long exit_at = exit_after >= 0 ? began + exit_after : -1;
  const long long signal_at = signal_after >= 0 ? began + signal_after : -1;
  for (;;) {
    const long long now = now_ms();
    if (exit_at >= 0 && now >= exit_at) leave(code);
    if (signal_at >= 0 && now >= signal_at) die_by(signo);
    long long next = -1;
    if (exit_at >= 0) next = exit_at;
    if (signal_at >= 0 && (next < 0 || signal_at < next)) next = signal_at;
    struct timespec timeout = {0, 0};
    if (next >= 0) {
      timeout.tv_sec = (next - now) / 1000;
      timeout.tv_nsec = ((next - now) % 1000) * 1000000;
    }
    ppoll(NULL, 0, next >= 0 ? &timeout : NULL, &wait_mask);
    if (!term_pending) continue;
    term_pending = 0;
    record("term %s %d", name, (int)getpid());
    if (ignore_term) continue;
    if (term_delay < 0) die_by(SIGTERM);
    code = 0;
    const long long deadline = now_ms() + term_delay;
    if (exit_at < 0 || deadline < exit_at) exit_at = deadline;
  }
}
