// otpctl's side of the socket's safety: whose directory it is in, and who
// may write there.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "cli/client_names.hpp"
#include "temp_dir.hpp"

using otpd::ctl::socket_distrust;
using otpd::test::TempDir;

namespace {

std::string make_dir(const TempDir& temp, const std::string& name, mode_t mode) {
  const std::string path = temp.path(name);
  REQUIRE(mkdir(path.c_str(), 0700) == 0);
  REQUIRE(chmod(path.c_str(), mode) == 0);
  return path;
}

// A socket file with nobody listening: enough for its owner to be seen.
void make_socket(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  close(fd);
}

}  // namespace

TEST_SUITE("otpctl socket trust") {
  TEST_CASE("a directory closed to others is trusted, chosen or default") {
    TempDir temp;
    const std::string dir = make_dir(temp, "run", 0755);
    CHECK_FALSE(socket_distrust(dir + "/otpd.sock", true, geteuid()).has_value());
    CHECK_FALSE(socket_distrust(dir + "/otpd.sock", false, geteuid()).has_value());
    // Nothing there yet: the connection says so.
    CHECK_FALSE(socket_distrust(temp.path("missing/otpd.sock"), false, geteuid()).has_value());
  }

  TEST_CASE("a directory others may write to is refused, naming it, its owner and mode") {
    TempDir temp;
    const std::string dir = make_dir(temp, "open", 0777);
    CHECK(socket_distrust(dir + "/otpd.sock", true, geteuid()) ==
          "refusing to use the socket " + dir + "/otpd.sock: its directory " + dir +
              " (owner uid " + std::to_string(geteuid()) +
              ", mode 0777) may be written by other users, who could replace the socket; fix "
              "the directory, or name another socket with --socket or OTPD_SOCKET");
    CHECK(socket_distrust(make_dir(temp, "group", 0770) + "/s", true, geteuid()).has_value());
  }

  TEST_CASE("in a sticky directory, only a socket of the user's own or root's") {
    TempDir temp;
    const std::string dir = make_dir(temp, "sticky", 01777);
    make_socket(dir + "/s.sock");
    CHECK_FALSE(socket_distrust(dir + "/s.sock", true, geteuid()).has_value());
    if (geteuid() == 0) {
      REQUIRE(lchown((dir + "/s.sock").c_str(), 65534, 65534) == 0);
      CHECK(socket_distrust(dir + "/s.sock", true, 0)
                .value_or("")
                .find("the socket there belongs to uid "
                      "65534") != std::string::npos);
    }
  }

  TEST_CASE("the default path in another user's directory is refused; a chosen one is not") {
    if (geteuid() != 0) {
      MESSAGE("skipped: needs root to give a directory to another user");
      return;
    }
    TempDir temp;
    // /tmp/otpd-1000 as another user (uid 1001) may have made it first.
    const std::string dir = make_dir(temp, "otpd-1000", 0700);
    REQUIRE(chown(dir.c_str(), 1001, 1001) == 0);
    CHECK(socket_distrust(dir + "/otpd.sock", false, 1000)
              .value_or("")
              .find("(owner uid 1001, mode 0700) belongs to another user") != std::string::npos);
    CHECK_FALSE(socket_distrust(dir + "/otpd.sock", true, 1000).has_value());
    CHECK_FALSE(socket_distrust(dir + "/otpd.sock", false, 1001).has_value());
    // Root's directories are everyone's to trust (/run/otpd).
    CHECK_FALSE(
        socket_distrust(make_dir(temp, "roots", 0711) + "/otpd.sock", false, 1000).has_value());
  }
}
