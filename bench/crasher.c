// A child that dies as soon as it has run: the restart benchmark measures
// the gap between one incarnation's death and the next one's first
// instruction, as seen by the child itself on CLOCK_MONOTONIC, so that
// neither otpd's log nor the benchmark's own scheduling is in the figure.
//
// Usage: otpd-bench-crasher STAMP_FILE
// Appends "start <ns>\n" and "exit <ns>\n" to STAMP_FILE, then _exit(1).
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// snprintf would pull stdio into a static binary and its locale set-up into
// the path we time; a hand-rolled decimal keeps the child as small as exec
// allows.
static size_t format_line(char* out, const char* tag, uint64_t value) {
  size_t n = 0;
  while (*tag) out[n++] = *tag++;
  out[n++] = ' ';
  char digits[24];
  size_t d = 0;
  do {
    digits[d++] = (char)('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (d > 0) out[n++] = digits[--d];
  out[n++] = '\n';
  return n;
}

int main(int argc, char** argv) {
  // First, before anything that could take time: this is the "exec" moment.
  const uint64_t started = now_ns();
  if (argc < 2) _exit(2);
  // O_APPEND and one write(2) per line keep lines whole even if a second
  // incarnation ever ran concurrently.
  const int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) _exit(3);
  char line[64];
  if (write(fd, line, format_line(line, "start", started)) < 0) _exit(4);
  const uint64_t exiting = now_ns();
  if (write(fd, line, format_line(line, "exit", exiting)) < 0) _exit(4);
  _exit(1);
}
