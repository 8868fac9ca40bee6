// The smallest long-running child for the scale benchmark: a static binary
// that waits for a signal with the default dispositions, so it costs the
// tree only its own few pages and SIGTERM ends it at once. Signal state is
// deliberately left as inherited: the benchmark checks what otpd handed down.
#define _POSIX_C_SOURCE 200809L

#include <unistd.h>

int main(void) {
  for (;;) pause();
}
