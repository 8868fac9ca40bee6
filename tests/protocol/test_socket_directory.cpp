// otpd listens only in a directory of its own: one that another user owns
// or may write to is refused at start, with a message that names it.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "client.hpp"

using namespace otpd::it;
using namespace otpd::pt;

namespace {

constexpr std::string_view kTree = R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a]
)";

std::string make_dir(const Sandbox& box, const std::string& name, mode_t mode) {
  const std::string path = box.path(name);
  REQUIRE(mkdir(path.c_str(), 0700) == 0);
  REQUIRE(chmod(path.c_str(), mode) == 0);
  return path;
}

// otpd on kTree with its socket at `socket`, run until it exits.
Otpd run_with_socket(const Sandbox& box, const std::string& socket) {
  Options options;
  options.env.push_back("OTPD_SOCKET=" + socket);
  return Otpd::run(box, kTree, options);
}

}  // namespace

TEST_CASE("a socket directory others may write to is refused at start, naming it") {
  Sandbox box;
  const std::string dir = make_dir(box, "open", 0777);
  Otpd otpd = run_with_socket(box, dir + "/s.sock");
  CHECK(otpd.wait_exit() == 1);
  CHECK_MESSAGE(
      otpd.logged("the control socket's directory " + dir + " (owner uid " +
                  std::to_string(geteuid()) + ", mode 0777) is not safe: any user may write to it"),
      otpd.transcript());
  CHECK(otpd.logged("otpd creates a missing one, mode 0700"));
  CHECK_FALSE(std::filesystem::exists(dir + "/s.sock"));
  CHECK(box.count_recorded("start", "a") == 0);  // nothing started
}

TEST_CASE("a socket directory of another user is refused; one made by otpd is its own") {
  if (geteuid() != 0) {
    MESSAGE("skipped: needs root to give a directory to another user");
    return;
  }
  Sandbox box;
  const std::string theirs = make_dir(box, "theirs", 0700);
  REQUIRE(chown(theirs.c_str(), 65534, 65534) == 0);
  Otpd refused = run_with_socket(box, theirs + "/s.sock");
  CHECK(refused.wait_exit() == 1);
  CHECK_MESSAGE(refused.logged("the control socket's directory " + theirs +
                               " (owner uid 65534, mode 0700) is not safe: it belongs to uid "
                               "65534, neither otpd's user (uid 0) nor root"),
                refused.transcript());

  // A missing directory is created, 0700 and otpd's, and used.
  Otpd otpd = run_with_socket(box, box.path("made/here/s.sock"));
  REQUIRE_MESSAGE(otpd.wait_message("tree started"), otpd.transcript());
  struct stat st {};
  REQUIRE(stat(box.path("made/here").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0700);
  CHECK(st.st_uid == geteuid());
  Client c(box.path("made/here/s.sock"));
  REQUIRE(c.ok());
  CHECK(c.call(otpd, {{"id", 1}, {"cmd", "ping"}})["result"] == "pong");
}

TEST_CASE("without XDG_RUNTIME_DIR, a non-root otpd refuses /tmp/otpd-UID made by another user") {
  if (geteuid() != 0) {
    MESSAGE("skipped: needs root to run otpd as another user");
    return;
  }
  // otpd runs as nobody (65534); the directory it would use by default was
  // created first by another user (uid 1), open to all.
  const std::string planted = "/tmp/otpd-65534";
  if (std::filesystem::exists(planted)) {
    MESSAGE("skipped: " << planted << " exists already");
    return;
  }
  REQUIRE(mkdir(planted.c_str(), 0700) == 0);
  struct Removed {
    const std::string& path;
    ~Removed() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  } removed{planted};
  REQUIRE(chmod(planted.c_str(), 0777) == 0);
  REQUIRE(chown(planted.c_str(), 1, 1) == 0);
  Sandbox box;
  REQUIRE(chmod(box.dir().c_str(), 0755) == 0);  // nobody reads the config there
  Options options;
  // Empty: otpd falls back to its default, as when they are unset.
  options.env = {"OTPD_SOCKET=", "XDG_RUNTIME_DIR="};
  options.wrapper = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"};
  Otpd otpd = Otpd::run(box, kTree, options);
  CHECK(otpd.wait_exit() == 1);
  CHECK_MESSAGE(otpd.logged("the control socket's directory " + planted +
                            " (owner uid 1, mode 0777) is not safe: it belongs to uid 1, "
                            "neither otpd's user (uid 65534) nor root, and any user may write "
                            "to it"),
                otpd.transcript());
  CHECK_FALSE(std::filesystem::exists(planted + "/otpd.sock"));
}
