// The smallest long-running child for the scale benchmark: a static binary
// that waits for a signal with the default dispositions, so it costs the
// tree only its own few pages and SIGTERM ends it at once. Signal state is
// deliberately left as inherited: the benchmark checks what otpd handed down.
//
// With OTPD_BENCH_READY_FD set (the runit comparison, where no supervisor
// says when its children have started) it writes one byte there first, and
// keeps the descriptor open so that its exit is seen too.
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <unistd.h>

int main(void) {
  const char* ready = getenv("OTPD_BENCH_READY_FD");
  if (ready != NULL) {
    const char byte = 1;
    if (write(atoi(ready), &byte, 1) < 0) return 1;
  }
  for (;;) pause();
}
