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
//   uid N R,E,S           --report-ids: real, effective and saved ids,
//   gid N R,E,S             and the supplementary groups ("none" when
//   groups N G,G,...        there are none)
//   umask N MODE          --report-umask, in octal: 0027
//   limit N RES=SOFT/HARD --report-limit RES (nofile, core, nproc, ...),
//                         "unlimited" for RLIM_INFINITY
//   caught N SIGNO PID    a signal named with --catch arrived
//   printed N COUNT       --print / --spew: all output written
//   pdeathsig N SIGNO     --report-pdeathsig: the parent-death signal at
//                         start (0: none), before --clear-pdeathsig
//   allocated N MB        --allocate MB: that many MiB written to, just
//                         before it goes on as scripted
//
// FILE defaults to $OTPD_TEST_RECORD, so that a test's config can stay short.
// Options: --exit-after MS [--code C], --signal-after MS SIG (number or name
// such as KILL), --ignore-term (record SIGTERM, keep running), --term-delay
// MS (on SIGTERM wait MS, then exit 0). --catch SIG (repeatable) handles
// SIG as it does SIGTERM (the other options apply), recording "caught"
// instead of "term". --fork: once set up, the child forks a copy of itself
// named N.child, in its process group, that records and behaves the same.
// --daemonize: once set up (and listening, with --listen), the child forks
// a copy named N.daemon that leaves the process group (setsid), records
// its start and runs on as scripted, holding the listener; the first
// process exits 0 once the copy runs, as a program that daemonizes does.
// --clear-pdeathsig removes a PR_SET_PDEATHSIG otpd set, as a program that
// changes its own user does: the child then outlives a killed otpd.
//
// --listen PORT listens on 127.0.0.1:PORT (the kernel completes connections
// without an accept), recording "listening N PORT"; with --listen-for MS it
// closes that socket after MS and goes on running, recording "unlistened
// N": a service that stops answering but stays alive.
//
// Output, written once running: --print COUNT writes "N out I" on stdout
// and "N err I" on stderr for I from 1 to COUNT; --spew BYTES writes
// numbered 100-byte lines "N spew I xxx..." on stdout as fast as the pipe
// takes them until BYTES are out; --binary writes every byte value 0..255
// except '\n' and invalid UTF-8, without a newline, on stdout; --bytes TEXT
// writes TEXT as is.
//
// Without a scripted end it runs until a signal ends it; an unignored
// SIGTERM ends it by SIGTERM, as it would a program with no handler.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inherited_fds.h"

static const char* name = "child";
static int record_fd = -1;
static volatile sig_atomic_t term_pending = 0;  // the signal that arrived
static char child_name[256];

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
  term_pending = signo;
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

// The first process waits until its copy, in a session of its own, has
// recorded its start, then exits 0; the copy returns and goes on.
static void become_daemon(void) {
  int running[2];
  if (pipe(running) != 0) _exit(98);
  const pid_t copy = fork();
  if (copy < 0) _exit(98);
  if (copy == 0) {
    close(running[0]);
    if (setsid() < 0) _exit(98);
    snprintf(child_name, sizeof child_name, "%s.daemon", name);
    name = child_name;
    record("start %s %d %d", name, (int)getpid(), (int)getpgid(0));
    close(running[1]);
    return;
  }
  close(running[1]);
  char byte;
  while (read(running[0], &byte, 1) < 0 && errno == EINTR) {
  }
  record("exit %s %d 0", name, (int)getpid());
  _exit(0);
}

static const struct {
  const char* name;
  int resource;
} resources[] = {
    {"as", RLIMIT_AS},           {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},
    {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK}};

static void limit_text(rlim_t value, char* out, size_t size) {
  if (value == RLIM_INFINITY) {
    snprintf(out, size, "unlimited");
  } else {
    snprintf(out, size, "%llu", (unsigned long long)value);
  }
}

static void report_limit(const char* resource_name) {
  for (size_t i = 0; i < sizeof resources / sizeof resources[0]; ++i) {
    if (strcmp(resources[i].name, resource_name) != 0) continue;
    struct rlimit limit;
    if (getrlimit(resources[i].resource, &limit) != 0) break;
    char soft[32], hard[32];
    limit_text(limit.rlim_cur, soft, sizeof soft);
    limit_text(limit.rlim_max, hard, sizeof hard);
    record("limit %s %s=%s/%s", name, resource_name, soft, hard);
    return;
  }
  record("limit %s %s=unknown", name, resource_name);
}

static void report_ids(void) {
  uid_t ruid, euid, suid;
  gid_t rgid, egid, sgid;
  getresuid(&ruid, &euid, &suid);
  getresgid(&rgid, &egid, &sgid);
  record("uid %s %u,%u,%u", name, (unsigned)ruid, (unsigned)euid, (unsigned)suid);
  record("gid %s %u,%u,%u", name, (unsigned)rgid, (unsigned)egid, (unsigned)sgid);
  gid_t groups[256];
  const int count = getgroups(256, groups);
  char list[4096] = "none";
  size_t used = 0;
  for (int i = 0; i < count && used < sizeof list - 16; ++i) {
    used += (size_t)snprintf(list + used, sizeof list - used, "%s%u", i ? "," : "",
                             (unsigned)groups[i]);
  }
  record("groups %s %s", name, list);
}

static void write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0) _exit(96);
    data += n;
    size -= (size_t)n;
  }
}

static void print_lines(long long count) {
  char line[128];
  for (long long i = 1; i <= count; ++i) {
    int n = snprintf(line, sizeof line, "%s out %lld\n", name, i);
    write_all(1, line, (size_t)n);
    n = snprintf(line, sizeof line, "%s err %lld\n", name, i);
    write_all(2, line, (size_t)n);
  }
}

// Lines of exactly 100 bytes, gathered into large writes.
static long long spew(long long bytes) {
  static char chunk[64 * 1024];
  long long lines = 0;
  size_t used = 0;
  for (long long written = 0; written < bytes; written += 100) {
    char* line = chunk + used;
    int n = snprintf(line, 101, "%s spew %lld ", name, ++lines);
    memset(line + n, 'x', (size_t)(99 - n));
    line[99] = '\n';
    used += 100;
    if (used + 100 > sizeof chunk) {
      write_all(1, chunk, used);
      used = 0;
    }
  }
  write_all(1, chunk, used);
  return lines;
}

static void write_binary(void) {
  char bytes[256 + 4];
  size_t n = 0;
  for (int b = 0; b < 256; ++b) {
    if (b != '\n') bytes[n++] = (char)b;
  }
  bytes[n++] = (char)0xc3;  // a truncated two-byte sequence
  bytes[n++] = (char)0x28;
  write_all(1, bytes, n);
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
  int report_fds = 0, report_mask = 0, report_cwd = 0, report_ids_too = 0, report_umask = 0;
  int fork_copy = 0, binary = 0, report_pdeathsig = 0, clear_pdeathsig = 0;
  long long allocate_mb = 0;
  long long print_count = 0, spew_bytes = 0;
  const char* raw_bytes = NULL;
  const char* report_env[16];
  int env_count = 0;
  const char* report_limits[16];
  int limit_count = 0;
  int caught[16];
  int catch_count = 0;
  int listen_port = 0;
  long long listen_for = -1;
  int daemonize = 0;
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
    } else if (strcmp(arg, "--report-limit") == 0 && has_value && limit_count < 16) {
      report_limits[limit_count++] = argv[++i];
    } else if (strcmp(arg, "--catch") == 0 && has_value && catch_count < 16) {
      caught[catch_count++] = parse_signal(argv[++i]);
    } else if (strcmp(arg, "--report-ids") == 0) {
      report_ids_too = 1;
    } else if (strcmp(arg, "--report-umask") == 0) {
      report_umask = 1;
    } else if (strcmp(arg, "--report-pdeathsig") == 0) {
      report_pdeathsig = 1;
    } else if (strcmp(arg, "--clear-pdeathsig") == 0) {
      clear_pdeathsig = 1;
    } else if (strcmp(arg, "--allocate") == 0 && has_value) {
      allocate_mb = atoll(argv[++i]);
    } else if (strcmp(arg, "--fork") == 0) {
      fork_copy = 1;
    } else if (strcmp(arg, "--print") == 0 && has_value) {
      print_count = atoll(argv[++i]);
    } else if (strcmp(arg, "--spew") == 0 && has_value) {
      spew_bytes = atoll(argv[++i]);
    } else if (strcmp(arg, "--bytes") == 0 && has_value) {
      raw_bytes = argv[++i];
    } else if (strcmp(arg, "--binary") == 0) {
      binary = 1;
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
    } else if (strcmp(arg, "--listen") == 0 && has_value) {
      listen_port = atoi(argv[++i]);
    } else if (strcmp(arg, "--daemonize") == 0) {
      daemonize = 1;
    } else if (strcmp(arg, "--listen-for") == 0 && has_value) {
      listen_for = atoll(argv[++i]);
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

  // SIGTERM (and the --catch signals) stay blocked except inside ppoll(), so
  // a signal is only ever handled in the main loop, never in the middle of
  // a record() call.
  caught[catch_count++] = SIGTERM;
  sigset_t handled, wait_mask;
  sigemptyset(&handled);
  for (int i = 0; i < catch_count; ++i) sigaddset(&handled, caught[i]);
  sigprocmask(SIG_BLOCK, &handled, &wait_mask);
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_term;
  for (int i = 0; i < catch_count; ++i) {
    sigdelset(&wait_mask, caught[i]);
    sigaction(caught[i], &action, NULL);
  }

  if (fork_copy) {
    const pid_t copy = fork();
    if (copy < 0) _exit(98);
    if (copy == 0) {
      snprintf(child_name, sizeof child_name, "%s.child", name);
      name = child_name;
    }
  }

  // Read before anything else can change it.
  int parent_death_signal = 0;
  prctl(PR_GET_PDEATHSIG, &parent_death_signal, 0, 0, 0);
  if (clear_pdeathsig) prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);

  if (orphan) leave_orphan();
  record("start %s %d %d", name, (int)getpid(), (int)getpgid(0));
  if (report_pdeathsig) record("pdeathsig %s %d", name, parent_death_signal);
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
  if (report_ids_too) report_ids();
  if (report_umask) {
    const mode_t mask = umask(0);
    umask(mask);
    record("umask %s %04o", name, (unsigned)mask);
  }
  for (int i = 0; i < limit_count; ++i) report_limit(report_limits[i]);
  if (report_cwd) {
    char cwd[PATH_MAX];
    record("cwd %s %s", name, getcwd(cwd, sizeof cwd) ? cwd : "error");
  }

  if (allocate_mb > 0) {
    // Touched page by page, so that it is charged, not just reserved.
    const size_t size = (size_t)allocate_mb * 1024 * 1024;
    char* memory = malloc(size);
    if (memory == NULL) _exit(95);
    for (size_t at = 0; at < size; at += 4096) memory[at] = (char)at;
    record("allocated %s %lld", name, allocate_mb);
  }
  if (print_count > 0) {
    print_lines(print_count);
    record("printed %s %lld", name, print_count);
  }
  if (spew_bytes > 0) record("printed %s %lld", name, spew(spew_bytes));
  if (binary) {
    write_binary();
    record("printed %s binary", name);
  }
  if (raw_bytes != NULL) {
    write_all(1, raw_bytes, strlen(raw_bytes));
    record("printed %s bytes", name);
  }

  int listener = -1;
  if (listen_port > 0) {
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int on = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons((unsigned short)listen_port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (listener < 0 || bind(listener, (struct sockaddr*)&address, sizeof address) != 0 ||
        listen(listener, 64) != 0) {
      perror("listen");
      return 2;
    }
    record("listening %s %d", name, listen_port);
  }

  if (daemonize) become_daemon();

  const long long began = now_ms();
  long long exit_at = exit_after >= 0 ? began + exit_after : -1;
  const long long signal_at = signal_after >= 0 ? began + signal_after : -1;
  long long unlisten_at = listener >= 0 && listen_for >= 0 ? began + listen_for : -1;
  for (;;) {
    const long long now = now_ms();
    if (exit_at >= 0 && now >= exit_at) leave(code);
    if (signal_at >= 0 && now >= signal_at) die_by(signo);
    if (unlisten_at >= 0 && now >= unlisten_at) {
      close(listener);
      unlisten_at = -1;
      record("unlistened %s", name);
    }
    long long next = -1;
    if (exit_at >= 0) next = exit_at;
    if (signal_at >= 0 && (next < 0 || signal_at < next)) next = signal_at;
    if (unlisten_at >= 0 && (next < 0 || unlisten_at < next)) next = unlisten_at;
    struct timespec timeout = {0, 0};
    if (next >= 0) {
      timeout.tv_sec = (next - now) / 1000;
      timeout.tv_nsec = ((next - now) % 1000) * 1000000;
    }
    ppoll(NULL, 0, next >= 0 ? &timeout : NULL, &wait_mask);
    const int arrived = term_pending;
    if (!arrived) continue;
    term_pending = 0;
    if (arrived == SIGTERM) {
      record("term %s %d", name, (int)getpid());
    } else {
      record("caught %s %d %d", name, arrived, (int)getpid());
    }
    if (ignore_term) continue;
    if (term_delay < 0) die_by(arrived);
    code = 0;
    const long long deadline = now_ms() + term_delay;
    if (exit_at < 0 || deadline < exit_at) exit_at = deadline;
  }
}
