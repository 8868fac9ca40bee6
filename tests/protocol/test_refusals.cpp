// Refusals anyone who can reach the socket can cause at will: a flood of
// them is counted exactly, and costs otpd's log a few lines, not one each.
#include <doctest/doctest.h>
#include <grp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <optional>
#include <regex>
#include <thread>

#include "client.hpp"

using namespace otpd::it;
using namespace otpd::pt;
using nlohmann::json;

namespace {

constexpr std::string_view kTree = R"(
tree:
  children:
    - name: a
      command: [@CHILD@, --name, a]
control:
  group: daemon
  read_group: nogroup
)";

// A directory other users can pass through (the sandbox is 0700), for the
// socket; removed with what it holds.
class ReachableDir {
 public:
  ReachableDir() {
    char dir[] = "/tmp/otpd-pt-XXXXXX";
    REQUIRE(mkdtemp(dir) != nullptr);
    dir_ = dir;
    REQUIRE(chmod(dir, 0755) == 0);
  }
  ~ReachableDir() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string path(std::string_view name) const { return dir_ + "/" + std::string(name); }

 private:
  std::string dir_;
};

std::optional<gid_t> group_id(const char* name) {
  const group* found = getgrnam(name);
  return found ? std::optional(found->gr_gid) : std::nullopt;
}

// Opens and closes `count` connections as fast as it can, each after the
// refusal is read; returns how many connected.
int flood(const std::string& path, int count) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  int connected = 0;
  for (int i = 0; i < count; ++i) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) break;
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) ++connected;
    close(fd);
  }
  return connected;
}

// The refusals otpd's log accounts for, among its lines: 1 for each line
// starting with `one`, N for each "... N more ..." line starting with
// `summary`; `lines` is how many lines that took.
std::uint64_t logged_count(const Otpd& otpd, std::string_view one, std::string_view summary,
                           int& lines) {
  static const std::regex more(R"( (\d+) more )");
  std::uint64_t count = 0;
  lines = 0;
  for (const Line& line : otpd.lines()) {
    const std::string message = line.str("message");
    std::smatch found;
    if (message.rfind(one, 0) == 0) {
      ++count;
      ++lines;
    } else if (message.rfind(summary, 0) == 0 && std::regex_search(message, found, more)) {
      count += std::stoull(found[1]);
      ++lines;
    }
  }
  return count;
}

}  // namespace

TEST_CASE("a flood of refused connections is counted exactly and logged in a few lines") {
  if (geteuid() != 0) {
    MESSAGE("skipped: needs root to act as another user");
    return;
  }
  if (!group_id("nogroup") || !group_id("daemon")) {
    MESSAGE("skipped: needs the groups nogroup and daemon");
    return;
  }
  ReachableDir dir;
  Sandbox box;
  Options options;
  options.env.push_back("OTPD_SOCKET=" + dir.path("s.sock"));
  Otpd otpd = Otpd::run(box, kTree, options);
  REQUIRE_MESSAGE(otpd.wait_message("tree started"), otpd.transcript());

  // A stranger (uid 65534, in neither group) connects over and over. otpd's
  // output is read meanwhile, so that a log it floods cannot stall it.
  constexpr int kConnections = 20000;
  std::atomic<bool> done = false;
  int connected = -1;
  std::thread stranger([&] {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) return;
    const int status = as_user(65534, 65533, [&] {
      const int n = flood(dir.path("s.sock"), kConnections);
      return write(pipe_fds[1], &n, sizeof n) == sizeof n ? 0 : 1;
    });
    if (status == 0 && read(pipe_fds[0], &connected, sizeof connected) != sizeof connected) {
      connected = -2;
    }
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    done = true;
  });
  const bool finished = otpd.wait_for([&] { return done.load(); }, Ms{120000});
  stranger.join();
  REQUIRE(finished);
  REQUIRE(connected == kConnections);

  // Still serving its own user.
  Client own(dir.path("s.sock"));
  REQUIRE(own.ok());
  CHECK(own.call(otpd, {{"id", 1}, {"cmd", "ping"}})["result"] == "pong");
  own.close();

  // What is still held back is logged when otpd exits.
  otpd.signal(SIGTERM);
  REQUIRE(otpd.wait_exit() == 0);
  int lines = 0;
  const std::uint64_t logged = logged_count(otpd, "control: refused a connection from uid 65534",
                                            "control: refused ", lines);
  CHECK(logged == kConnections);
  // The first line, one summary per 10 s of flood at most, the last one.
  CHECK(lines >= 2);
  CHECK(lines <= 14);
  CHECK(otpd.lines().size() < 100);
}

TEST_CASE("refused commands of a read-only user are counted and logged in a few lines") {
  if (geteuid() != 0) {
    MESSAGE("skipped: needs root to act as another user");
    return;
  }
  const std::optional<gid_t> reader_gid = group_id("nogroup");
  if (!reader_gid || !group_id("daemon")) {
    MESSAGE("skipped: needs the groups nogroup and daemon");
    return;
  }
  ReachableDir dir;
  Sandbox box;
  Options options;
  options.env.push_back("OTPD_SOCKET=" + dir.path("s.sock"));
  Otpd otpd = Otpd::run(box, kTree, options);
  REQUIRE_MESSAGE(otpd.wait_message("tree started"), otpd.transcript());

  // One connection, many stops: each is answered forbidden; the reader
  // counts the answers.
  constexpr int kRequests = 2000;
  std::atomic<bool> done = false;
  int answered = -1;
  std::thread reader([&] {
    answered = as_user(65534, *reader_gid, [&] {
      Client c(dir.path("s.sock"));
      if (!c.ok()) return 255;
      std::string batch;
      for (int i = 0; i < kRequests; ++i) {
        batch += json{{"id", i}, {"cmd", "stop"}, {"path", "a"}}.dump() + "\n";
      }
      c.send(batch);
      shutdown(c.fd(), SHUT_WR);
      std::string text;
      char chunk[65536];
      for (ssize_t n; (n = recv(c.fd(), chunk, sizeof chunk, 0)) > 0;) {
        text.append(chunk, static_cast<std::size_t>(n));
      }
      int forbidden = 0;
      for (std::size_t at = 0; (at = text.find("\"forbidden\"", at)) != std::string::npos; ++at) {
        ++forbidden;
      }
      return forbidden == kRequests ? 0 : 1;
    });
    done = true;
  });
  const bool finished = otpd.wait_for([&] { return done.load(); }, Ms{60000});
  reader.join();
  REQUIRE(finished);
  CHECK(answered == 0);
  CHECK(box.count_recorded("start", "a") == 1);  // nothing was stopped

  otpd.signal(SIGTERM);
  REQUIRE(otpd.wait_exit() == 0);
  int lines = 0;
  CHECK(logged_count(otpd, "control: refused 'stop' from uid 65534", "control: refused ", lines) ==
        kRequests);
  CHECK(lines >= 2);
  CHECK(lines <= 3);
}
