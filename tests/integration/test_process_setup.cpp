// What a child finds when it starts: its group, descriptors, signals,
// environment and working directory.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include "harness.hpp"

using namespace otpd::it;

namespace {

std::string real(const std::string& path) {
  return std::filesystem::canonical(path).string();
}

}  // namespace

TEST_CASE("a child leads its own process group, with stdin on /dev/null") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a]
)");
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "start", "a"), otpd.transcript());
  const pid_t pid = box.pid("a");
  CHECK(box.recorded_value("start", "a") == std::to_string(pid));
  CHECK(getpgid(pid) == pid);
  CHECK(getpgid(pid) != getpgid(otpd.pid()));
  CHECK(fd_target(pid, 0) == "/dev/null");
}

TEST_CASE("a child inherits no descriptor of otpd and no blocked signal") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a, --report-fds, --report-mask]
    - name: b
      command: [@CHILD@, --name, b, --report-fds]
)");
  REQUIRE(otpd.wait_recorded(box, "fds", "a"));
  REQUIRE(otpd.wait_recorded(box, "fds", "b"));
  // The child records its mask after its descriptors.
  REQUIRE(otpd.wait_recorded(box, "mask", "a"));
  CHECK(box.recorded_value("fds", "a") == "none");
  CHECK(box.recorded_value("fds", "b") == "none");  // nor one of its older sibling
  CHECK(box.recorded_value("mask", "a") == "0");
}

TEST_CASE("env adds to and overrides otpd's own environment") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      env: {OTPD_T_OVERRIDE: from-config, OTPD_T_NEW: "two words"}
      command: [@CHILD@, --name, a, --report-env, OTPD_T_OVERRIDE, --report-env, OTPD_T_KEEP,
                --report-env, OTPD_T_NEW]
)",
                        {.env = {"OTPD_T_OVERRIDE=from-otpd", "OTPD_T_KEEP=kept"}});
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "env", "a", 3), otpd.transcript());
  CHECK(box.recorded_value("env", "a", 0) == "OTPD_T_OVERRIDE=from-config");
  CHECK(box.recorded_value("env", "a", 1) == "OTPD_T_KEEP=kept");
  CHECK(box.records()[3] == "env a OTPD_T_NEW=two words");
}

TEST_CASE("the working directory defaults to the config file's and is relative to it") {
  Sandbox box;
  std::filesystem::create_directory(box.path("sub"));
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a, --report-cwd]
    - name: b
      cwd: sub
      command: [@CHILD@, --name, b, --report-cwd]
    - name: c
      cwd: @DIR@/sub
      command: [@CHILD@, --name, c, --report-cwd]
)");  // otpd itself runs in /
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "cwd", "c"), otpd.transcript());
  REQUIRE(otpd.wait_recorded(box, "cwd", "b"));
  REQUIRE(otpd.wait_recorded(box, "cwd", "a"));
  CHECK(box.recorded_value("cwd", "a") == real(box.dir()));
  CHECK(box.recorded_value("cwd", "b") == real(box.path("sub")));
  CHECK(box.recorded_value("cwd", "c") == real(box.path("sub")));
}

TEST_CASE("a shell child runs its script with /bin/sh") {
  Sandbox box;
  Otpd otpd = Otpd::run(box, R"(
tree:
  children:
    - name: s
      shell: "OTPD_T_SHELL=yes exec @CHILD@ --name s --report-env OTPD_T_SHELL"
)");
  REQUIRE_MESSAGE(otpd.wait_recorded(box, "env", "s"), otpd.transcript());
  CHECK(box.recorded_value("env", "s") == "OTPD_T_SHELL=yes");
  CHECK(otpd.wait_for([&] { return otpd.pid_of("s") == box.pid("s"); }));
}
