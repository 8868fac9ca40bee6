// The socket file itself: its mode, a stale one replaced, a live one kept,
// peers checked, and a thousand clients at once.
#include <doctest/doctest.h>
#include <grp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
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
)";

// Leaves a socket file behind with nobody listening, as a killed otpd does.
void make_stale_socket(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  close(fd);
}

}  // namespace

TEST_CASE("the socket is created with mode 0600") {
  Sandbox box;
  Otpd otpd = start_otpd(box, kTree);
  struct stat st {};
  REQUIRE(lstat(socket_in(box).c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(st.st_uid == geteuid());
  // Not inherited by the children otpd spawns.
  CHECK(otpd.wait_recorded(box, "start", "a"));
  for (int fd = 3; fd < 64; ++fd) {
    CHECK(fd_target(box.pid("a"), fd).find("socket:") == std::string::npos);
  }
}

TEST_CASE("a stale socket file is replaced; a live one is not stolen") {
  Sandbox box;
  make_stale_socket(socket_in(box));
  Otpd first = start_otpd(box, kTree);
  Client c(socket_in(box));
  REQUIRE(c.ok());
  CHECK(c.call(first, {{"id", 1}, {"cmd", "ping"}})["result"] == "pong");

  Options options;
  options.env.push_back("OTPD_SOCKET=" + socket_in(box));
  const std::string config = box.write("second.yaml", kTree);
  Otpd second({"--config", config}, options);
  CHECK(second.wait_exit() == 1);
  CHECK(second.transcript().find("another otpd is already listening on " + socket_in(box)) !=
        std::string::npos);
  CHECK(box.count_recorded("start", "a") == 1);  // the second started nothing
  CHECK(c.call(first, {{"id", 2}, {"cmd", "ping"}})["result"] == "pong");
}

TEST_CASE("--socket wins over OTPD_SOCKET") {
  Sandbox box;
  Options options;
  options.env.push_back("OTPD_SOCKET=" + box.path("env.sock"));
  const std::string config = box.write("otpd.yaml", kTree);
  Otpd otpd({"--config", config, "--log-format", "json", "--socket", box.path("flag.sock")},
            options);
  REQUIRE(otpd.wait_message("tree started"));
  Client c(box.path("flag.sock"));
  REQUIRE(c.ok());
  CHECK(c.call(otpd, {{"id", 1}, {"cmd", "ping"}})["result"] == "pong");
  CHECK_FALSE(Client(box.path("env.sock")).ok());
}

TEST_CASE("a thousand clients at once are all answered, and their descriptors go away") {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < 2100) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 4096);
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  Sandbox box;
  Otpd otpd = start_otpd(box, kTree);
  const int baseline = open_fds(otpd.pid());
  std::vector<Client> clients;
  for (int i = 0; i < 1000; ++i) {
    clients.emplace_back(socket_in(box));
    REQUIRE(clients.back().ok());
  }
  for (int i = 0; i < 1000; ++i) {
    clients[i].send(json{{"id", i}, {"cmd", i % 2 ? "ping" : "status"}}.dump() + "\n");
  }
  int answered = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto r = clients[i].reply(otpd);
    if (r && (*r)["id"] == i && r->contains("result")) ++answered;
  }
  CHECK(answered == 1000);
  CHECK(open_fds(otpd.pid()) >= baseline + 1000);
  clients.clear();
  CHECK(otpd.wait_for([&] { return open_fds(otpd.pid()) == baseline; }, Ms{10000}));
}

TEST_CASE("groups: full, read-only, and refused peers") {
  if (geteuid() != 0) {
    MESSAGE("skipped: needs root to act as other users");
    return;
  }
  // getgrnam's result lives in one static buffer: copy each gid at once.
  const group* found = getgrnam("nogroup");
  const std::optional<gid_t> reader_gid = found ? std::optional(found->gr_gid) : std::nullopt;
  found = getgrnam("daemon");
  const std::optional<gid_t> operator_gid = found ? std::optional(found->gr_gid) : std::nullopt;
  if (!reader_gid || !operator_gid) {
    MESSAGE("skipped: needs the groups nogroup and daemon");
    return;
  }
  // Another user must be able to reach the socket: not in the 0700 sandbox.
  char dir[] = "/tmp/otpd-pt-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  chmod(dir, 0755);
  const std::string path = std::string(dir) + "/s.sock";

  Sandbox box;
  Options options;
  options.env.push_back("OTPD_SOCKET=" + path);
  Otpd otpd = Otpd::run(
      box, std::string(kTree) + "control:\n  group: daemon\n  read_group: nogroup\n", options);
  REQUIRE_MESSAGE(otpd.wait_message("tree started"), otpd.transcript());
  struct stat st {};
  REQUIRE(lstat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0666);

  // The children cannot use doctest; they report through their exit code.
  auto ask = [&](const std::string& request) -> std::string {
    Client c(path);
    if (!c.ok()) return "no connection";
    c.send(request + "\n");
    std::string text;
    char chunk[4096];
    for (;;) {
      const ssize_t n = recv(c.fd(), chunk, sizeof chunk, 0);
      if (n <= 0) break;
      text.append(chunk, static_cast<std::size_t>(n));
      if (text.find('\n') != std::string::npos) break;
    }
    return text;
  };
  const auto has = [](const std::string& text, const char* part) {
    return text.find(part) != std::string::npos;
  };
  int reader = 0, operator_result = 0, stranger = 0;
  std::thread([&] {
    reader = as_user(65534, *reader_gid, [&] {
      const bool pong = has(ask(R"({"id":1,"cmd":"ping"})"), "pong");
      const bool status = has(ask(R"({"id":2,"cmd":"status"})"), "\"result\"");
      const bool refused = has(ask(R"({"id":3,"cmd":"stop","path":"a"})"), "forbidden");
      return (pong ? 0 : 1) | (status ? 0 : 2) | (refused ? 0 : 4);
    });
    operator_result = as_user(65534, *operator_gid, [&] {
      return has(ask(R"({"id":1,"cmd":"restart","path":"a"})"), "\"result\"") ? 0 : 1;
    });
    stranger = as_user(65534, 65533,
                       [&] { return has(ask(R"({"id":1,"cmd":"ping"})"), "forbidden") ? 0 : 1; });
  }).join();
  CHECK(reader == 0);
  CHECK(operator_result == 0);
  CHECK(stranger == 0);
  CHECK(otpd.wait_message("control: refused 'stop' from uid 65534"));
  CHECK(otpd.wait_message("control: refused a connection from uid 65534"));
  std::filesystem::remove_all(dir);
}
