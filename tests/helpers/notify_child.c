// otpd-notify-child --name N [options]
//
// A child that tells otpd it is ready the ways `ready:` understands, on a
// schedule the test sets, and records what it does, one O_APPEND line each
// to $OTPD_TEST_RECORD (or --record FILE):
//
//   start N PID         at once
//   ready N PID         just before it signals readiness
//   watchdog-off N PID  when it stops pinging
//   exit N PID          on SIGTERM, just before exiting 0
//
// Options (times in ms from the start):
//   --ready-after MS       send READY=1 to $NOTIFY_SOCKET ("@name" is the
//                          abstract namespace, anything else a path)
//   --status TEXT          send STATUS=TEXT at once (and with READY=1)
//   --watchdog-every MS    send WATCHDOG=1 every MS once ready
//   --watchdog-stop MS     stop pinging at MS
//   --watchdog-trigger MS  send WATCHDOG=trigger at MS
//   --fd N --fd-after MS   write a newline to descriptor N at MS, close it
//   --fd-close MS          close descriptor --fd N at MS without a newline
//   --listen PORT --listen-after MS  accept TCP connections on
//                          127.0.0.1:PORT from MS on
//   --exit-after MS [--code C]  exit with C (default 0) at MS
// Runs until SIGTERM (exit 0) or a scripted end.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char* name = "child";
static int record_fd = -1;
static volatile sig_atomic_t terminated = 0;

static void record(const char* format, ...) {
  char line[1024];
  va_list args;
  va_start(args, format);
  int n = vsnprintf(line, sizeof line - 1, format, args);
  va_end(args);
  if (n < 0) return;
  if ((size_t)n > sizeof line - 2) n = sizeof line - 2;
  line[n++] = '\n';
  if (record_fd >= 0 && write(record_fd, line, (size_t)n) != n) _exit(99);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_term(int signo) {
  (void)signo;
  terminated = 1;
}

// sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET.
static void notify(const char* message) {
  const char* socket_name = getenv("NOTIFY_SOCKET");
  if (socket_name == NULL || socket_name[0] == '\0') {
    fprintf(stderr, "%s: NOTIFY_SOCKET is not set\n", name);
    return;
  }
  struct sockaddr_un address;
  memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  size_t length = strlen(socket_name);
  if (length >= sizeof address.sun_path) return;
  memcpy(address.sun_path, socket_name, length);
  if (address.sun_path[0] == '@') address.sun_path[0] = '\0';
  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  const socklen_t size = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + length);
  if (sendto(fd, message, strlen(message), 0, (struct sockaddr*)&address, size) < 0) {
    fprintf(stderr, "%s: cannot notify: %s\n", name, strerror(errno));
  }
  close(fd);
}

static int listen_on(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  struct sockaddr_in address;
  memset(&address, 0, sizeof address);
  address.sin_family = AF_INET;
  address.sin_port = htons((unsigned short)port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr*)&address, sizeof address) != 0 || listen(fd, 16) != 0) {
    fprintf(stderr, "%s: cannot listen on %d: %s\n", name, port, strerror(errno));
    exit(3);
  }
  return fd;
}

int main(int argc, char** argv) {
  const char* record_path = getenv("OTPD_TEST_RECORD");
  const char* status = NULL;
  long long ready_after = -1, watchdog_every = -1, watchdog_stop = -1, watchdog_trigger = -1;
  long long fd_after = -1, fd_close = -1, listen_after = -1, exit_after = -1;
  int ready_fd = -1, port = 0, code = 0;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : NULL;
    if (value == NULL) {
      fprintf(stderr, "notify_child: %s needs a value\n", arg);
      return 2;
    }
    ++i;
    if (strcmp(arg, "--name") == 0)
      name = value;
    else if (strcmp(arg, "--record") == 0)
      record_path = value;
    else if (strcmp(arg, "--ready-after") == 0)
      ready_after = atoll(value);
    else if (strcmp(arg, "--status") == 0)
      status = value;
    else if (strcmp(arg, "--watchdog-every") == 0)
      watchdog_every = atoll(value);
    else if (strcmp(arg, "--watchdog-stop") == 0)
      watchdog_stop = atoll(value);
    else if (strcmp(arg, "--watchdog-trigger") == 0)
      watchdog_trigger = atoll(value);
    else if (strcmp(arg, "--fd") == 0)
      ready_fd = atoi(value);
    else if (strcmp(arg, "--fd-after") == 0)
      fd_after = atoll(value);
    else if (strcmp(arg, "--fd-close") == 0)
      fd_close = atoll(value);
    else if (strcmp(arg, "--listen") == 0)
      port = atoi(value);
    else if (strcmp(arg, "--listen-after") == 0)
      listen_after = atoll(value);
    else if (strcmp(arg, "--exit-after") == 0)
      exit_after = atoll(value);
    else if (strcmp(arg, "--code") == 0)
      code = atoi(value);
    else {
      fprintf(stderr, "notify_child: unknown option %s\n", arg);
      return 2;
    }
  }
  if (record_path != NULL)
    record_fd = open(record_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

  // Killed by its watchdog with SIGABRT, it must not leave a core file behind.
  const struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);

  struct sigaction term;
  memset(&term, 0, sizeof term);
  term.sa_handler = on_term;
  sigaction(SIGTERM, &term, NULL);

  const long long start = now_ms();
  record("start %s %d", name, (int)getpid());
  if (status != NULL) {
    char message[600];
    snprintf(message, sizeof message, "STATUS=%s", status);
    notify(message);
  }

  int listener = -1;
  int ready = 0;
  long long next_ping = -1;
  for (;;) {
    if (terminated) {
      record("exit %s %d", name, (int)getpid());
      return 0;
    }
    const long long t = now_ms() - start;
    if (ready_after >= 0 && t >= ready_after && !ready) {
      ready = 1;
      record("ready %s %d", name, (int)getpid());
      char message[700];
      snprintf(message, sizeof message, "READY=1\nMAINPID=%d%s%s", (int)getpid(),
               status ? "\nSTATUS=" : "", status ? status : "");
      notify(message);
      if (watchdog_every > 0) next_ping = t + watchdog_every;
    }
    if (next_ping >= 0 && t >= next_ping) {
      if (watchdog_stop >= 0 && t >= watchdog_stop) {
        record("watchdog-off %s %d", name, (int)getpid());
        next_ping = -1;
      } else {
        notify("WATCHDOG=1");
        next_ping = t + watchdog_every;
      }
    }
    if (watchdog_trigger >= 0 && t >= watchdog_trigger) {
      watchdog_trigger = -1;
      notify("WATCHDOG=trigger");
    }
    if (ready_fd >= 0 && fd_after >= 0 && t >= fd_after) {
      record("ready %s %d", name, (int)getpid());
      if (write(ready_fd, "\n", 1) != 1)
        fprintf(stderr, "%s: cannot write to fd %d\n", name, ready_fd);
      close(ready_fd);
      ready_fd = -1;
    }
    if (ready_fd >= 0 && fd_close >= 0 && t >= fd_close) {
      close(ready_fd);
      ready_fd = -1;
    }
    if (port > 0 && listen_after >= 0 && t >= listen_after && listener < 0) {
      record("ready %s %d", name, (int)getpid());
      listener = listen_on(port);
    }
    if (exit_after >= 0 && t >= exit_after) {
      record("exit %s %d", name, (int)getpid());
      return code;
    }
    if (listener >= 0) {
      int connection;
      while ((connection = accept4(listener, NULL, NULL, SOCK_CLOEXEC)) >= 0) close(connection);
    }
    struct pollfd wait = {listener, POLLIN, 0};
    poll(&wait, listener >= 0 ? 1 : 0, 10);
  }
}
