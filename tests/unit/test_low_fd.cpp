// The low descriptor slot when otpd has no descriptor left to open.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <vector>

#include "process/low_fd.hpp"

TEST_CASE("the low slot lets go of a passed descriptor even with no descriptor left") {
  otpd::process::reserve_low_fd();
  int ends[2];
  REQUIRE(pipe2(ends, O_CLOEXEC | O_NONBLOCK) == 0);
  const int low = otpd::process::place_low_fd(ends[1]);
  REQUIRE(low != ends[1]);
  close(ends[1]);

  rlimit saved{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &saved) == 0);
  // Every free number taken, as in a tree that has used up its limit.
  std::vector<int> filler;
  rlimit tight = saved;
  tight.rlim_cur = 256;
  REQUIRE(setrlimit(RLIMIT_NOFILE, &tight) == 0);
  for (int fd; (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) filler.push_back(fd);
  otpd::process::release_low_fd();
  for (int fd : filler) close(fd);
  REQUIRE(setrlimit(RLIMIT_NOFILE, &saved) == 0);

  // The slot no longer holds the write end: the reader sees the end of the pipe.
  char byte;
  CHECK(read(ends[0], &byte, 1) == 0);
  close(ends[0]);
}
