// otpd as PID 1 of a new PID namespace, as in a container: it gets SIGTERM
// although PID 1 ignores signals it has no handler for, it reaps the
// orphans of the whole namespace, and it exits with a meaningful status.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>

#include "harness.hpp"

using namespace otpd::it;

namespace {

// The first child of `pid`: otpd, below unshare.
pid_t child_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  pid_t child = 0;
  in >> child;
  return child;
}

}  // namespace

TEST_CASE("as PID 1 otpd reaps the namespace's orphans and stops on SIGTERM") {
  if (!can_unshare_pid()) {
    MESSAGE("skipped: needs root and unshare --pid");
    return;
  }
  Sandbox box;
  Otpd otpd = Otpd::run(
      box, R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a]
    - name: spawner
      restart: temporary
      shell: "setsid sh -c 'sleep 0.2; exit 3' & exit 0"
)",
      {.wrapper = {"/usr/bin/unshare", "--pid", "--fork", "--mount-proc", "--kill-child"}});
  REQUIRE_MESSAGE(otpd.wait_message("tree started"), otpd.transcript());
  CHECK(otpd.logged("(pid 1)"));
  // The background job outlives the spawner, so only PID 1 can reap it:
  // charged to the spawner when it was killed with the spawner's process
  // group, to / when it had escaped that group first (setsid).
  REQUIRE_MESSAGE(otpd.wait_for([&] {
    return otpd.count("/", "orphan_reaped") + otpd.count("spawner", "orphan_reaped") > 0;
  }),
                  otpd.transcript());

  pid_t inner = 0;
  REQUIRE(otpd.wait_for([&] { return (inner = child_of(otpd.pid())) > 0; }));
  REQUIRE(kill(inner, SIGTERM) == 0);
  REQUIRE_MESSAGE(otpd.wait_message("stopped"), otpd.transcript());
  CHECK(otpd.wait_exit() == 0);
  CHECK(otpd.count("a", "stopped") == 1);
  CHECK(strays().empty());
}
