// The control socket's directory must be otpd's own: checked on real
// directories, links and owners (the owners only as root).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "control/socket_dir.hpp"
#include "temp_dir.hpp"

using otpd::control::check_socket_dir;
using otpd::test::TempDir;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string make_dir(const TempDir& temp, const std::string& name, mode_t mode) {
  const std::string path = temp.path(name);
  REQUIRE(mkdir(path.c_str(), 0700) == 0);
  REQUIRE(chmod(path.c_str(), mode) == 0);  // past the umask
  return path;
}

}  // namespace

TEST_SUITE("socket directory") {
  TEST_CASE("a directory of otpd's own, closed to others, below sticky /tmp, is accepted") {
    TempDir temp;
    const std::string dir = make_dir(temp, "run", 0700);
    std::string error;
    CHECK_MESSAGE(check_socket_dir(dir, geteuid(), error), error);
    CHECK(check_socket_dir(make_dir(temp, "open", 0755), geteuid(), error));
  }

  TEST_CASE("a directory others may write to is refused, naming it, its owner and mode") {
    TempDir temp;
    const std::string dir = make_dir(temp, "run", 0777);
    std::string error;
    CHECK_FALSE(check_socket_dir(dir, geteuid(), error));
    CHECK(contains(error, "the control socket's directory " + dir + " (owner uid " +
                              std::to_string(geteuid()) +
                              ", mode 0777) is not safe: any user "
                              "may write to it"));
    CHECK(contains(error, "otpd creates a missing one, mode 0700"));

    CHECK_FALSE(check_socket_dir(make_dir(temp, "group", 0770), geteuid(), error));
    CHECK(contains(error, "mode 0770) is not safe: its group may write to it"));
  }

  TEST_CASE("a sticky directory open to all is accepted only when it is root's, as /tmp") {
    std::string error;
    CHECK_MESSAGE(check_socket_dir("/tmp", geteuid(), error), error);
    TempDir temp;
    const std::string sticky = make_dir(temp, "sticky", 01777);
    CHECK(check_socket_dir(sticky, geteuid(), error) == (geteuid() == 0));
    if (geteuid() == 0) {
      REQUIRE(chown(sticky.c_str(), 65534, 65534) == 0);
      CHECK_FALSE(check_socket_dir(sticky, 65534, error));
      CHECK(contains(error, "(owner uid 65534, mode 1777) is not safe: any user may write to it"));
    }
  }

  TEST_CASE("a directory above the socket that others may write to is refused") {
    TempDir temp;
    const std::string above = make_dir(temp, "above", 0777);
    REQUIRE(mkdir((above + "/run").c_str(), 0700) == 0);
    std::string error;
    CHECK_FALSE(check_socket_dir(above + "/run", geteuid(), error));
    CHECK(contains(error, "the directory " + above + " above the control socket (owner uid"));
    // Sticky and root's, as /tmp: nobody else may move what is in it.
    if (geteuid() == 0) {
      REQUIRE(chmod(above.c_str(), 01777) == 0);
      CHECK_MESSAGE(check_socket_dir(above + "/run", geteuid(), error), error);
    }
  }

  TEST_CASE("links are followed and checked; the path must end in a directory") {
    TempDir temp;
    const std::string real = make_dir(temp, "real", 0700);
    REQUIRE(symlink(real.c_str(), temp.path("absolute").c_str()) == 0);
    const std::string base = temp.dir().substr(temp.dir().rfind('/') + 1);
    REQUIRE(symlink(("../" + base + "/real").c_str(), temp.path("relative").c_str()) == 0);
    std::string error;
    CHECK_MESSAGE(check_socket_dir(temp.path("absolute"), geteuid(), error), error);
    CHECK_MESSAGE(check_socket_dir(temp.path("relative") + "/.", geteuid(), error), error);
    // A link to an open directory is judged by that directory.
    const std::string open = make_dir(temp, "open", 0777);
    REQUIRE(symlink(open.c_str(), temp.path("to-open").c_str()) == 0);
    CHECK_FALSE(check_socket_dir(temp.path("to-open"), geteuid(), error));
    CHECK(contains(error, "the control socket's directory " + open + " "));

    temp.write("file", "x");
    CHECK_FALSE(check_socket_dir(temp.path("file"), geteuid(), error));
    CHECK(contains(error, "Not a directory"));
    CHECK_FALSE(check_socket_dir(temp.path("missing"), geteuid(), error));
    CHECK(contains(error, "No such file or directory"));
  }

  TEST_CASE("a directory or link of another user is refused; root's and otpd's own are not") {
    if (geteuid() != 0) {
      MESSAGE("skipped: needs root to give files to other users");
      return;
    }
    TempDir temp;
    const std::string dir = make_dir(temp, "theirs", 0700);
    REQUIRE(chown(dir.c_str(), 65534, 65534) == 0);
    std::string error;
    CHECK_FALSE(check_socket_dir(dir, 0, error));
    CHECK(contains(error,
                   "(owner uid 65534, mode 0700) is not safe: it belongs to uid 65534, "
                   "neither otpd's user (uid 0) nor root"));
    // The same directory is fine for an otpd running as its owner.
    CHECK_MESSAGE(check_socket_dir(dir, 65534, error), error);

    const std::string real = make_dir(temp, "real", 0700);
    REQUIRE(symlink(real.c_str(), temp.path("link").c_str()) == 0);
    REQUIRE(lchown(temp.path("link").c_str(), 65534, 65534) == 0);
    CHECK_FALSE(check_socket_dir(temp.path("link"), 0, error));
    CHECK(contains(error, "the link " + temp.path("link") +
                              " on the way to the control socket (owner uid 65534) is not safe"));
  }
}
