// A child that writes as fast as its stdout takes it: numbered 100-byte
// lines "spew I xxx...", in 64 KiB writes, then the line "spew-end" and a
// pause() until a signal ends it (so that it is not restarted meanwhile).
//
// Usage: otpd-bench-spew BYTES   (0: forever)
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char chunk[64 * 1024];

static void write_all(const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(1, data, size);
    if (n < 0) _exit(1);
    data += n;
    size -= (size_t)n;
  }
}

static size_t format_line(char* out, unsigned long long i) {
  static const char prefix[] = "spew ";
  memcpy(out, prefix, 5);
  char digits[24];
  size_t d = 0;
  do {
    digits[d++] = (char)('0' + i % 10);
    i /= 10;
  } while (i != 0);
  size_t n = 5;
  while (d > 0) out[n++] = digits[--d];
  out[n++] = ' ';
  memset(out + n, 'x', 99 - n);
  out[99] = '\n';
  return 100;
}

int main(int argc, char** argv) {
  const unsigned long long bytes = argc > 1 ? strtoull(argv[1], NULL, 10) : 0;
  unsigned long long line = 0;
  size_t used = 0;
  for (unsigned long long written = 0; bytes == 0 || written < bytes; written += 100) {
    used += format_line(chunk + used, ++line);
    if (used + 100 > sizeof chunk) {
      write_all(chunk, used);
      used = 0;
    }
  }
  write_all(chunk, used);
  write_all("spew-end\n", 9);
  for (;;) pause();
}
