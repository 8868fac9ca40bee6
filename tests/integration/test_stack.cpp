// The example stack, config/examples/stack.yaml, for real: Debian's postgres
// 15, redis and nginx and a small worker app under a real otpd, as an
// operator runs them. The file is run as it is, with its state directory and
// its ports moved so that runs beside each other do not meet. It checks the
// start order that readiness gives, redis's SIGKILL and the app's restart
// under rest_for_one, a reload that changes only the app, and a shutdown that
// leaves nothing running and redis's data saved.
//
// It needs root (the servers run as their own users) and the packages that
// `scripts/install-deps --tests` installs; without them it says why and
// skips. Every wait has a deadline; every process is otpd's, ended by it.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "harness.hpp"
#include "otpctl_process.hpp"

using namespace otpd::it;
namespace fs = std::filesystem;

namespace {

const std::string kExample = OTPD_SOURCE_DIR "/config/examples/stack.yaml";
const std::string kExampleDir = OTPD_SOURCE_DIR "/config/examples/stack";
// The servers can take their time on a loaded machine: postgres checkpoints
// at its start and at its stop.
constexpr Ms kServerPatience{120000};

// Why the stack cannot run here, or "".
std::string unavailable() {
  if (geteuid() != 0) return "its servers run as their own users, which takes root";
  for (const char* program :
       {"/usr/lib/postgresql/15/bin/postgres", "/usr/lib/postgresql/15/bin/initdb",
        "/usr/lib/postgresql/15/bin/pg_isready", "/usr/bin/redis-server", "/usr/bin/redis-cli",
        "/usr/sbin/nginx", "/usr/sbin/runuser"}) {
    if (access(program, X_OK) != 0) {
      return std::string(program) + " is not installed (scripts/install-deps --tests installs it)";
    }
  }
  for (const char* user : {"postgres", "redis", "www-data", "nobody"}) {
    if (getpwnam(user) == nullptr) return std::string("no user ") + user;
  }
  return {};
}

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t size = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  close(fd);
  return ntohs(address.sin_port);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string replaced(std::string text, const std::map<std::string, std::string>& changes) {
  for (const auto& [from, to] : changes) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
      text.replace(at, from.size(), to);
    }
  }
  return text;
}

// A connection to 127.0.0.1:port with a bound on every read and write.
int connect_to(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval limit{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<unsigned short>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// One redis command over RESP. The reply as text: a status or an integer
// as written, a string's bytes, an array's strings one per line, "(nil)"
// for nothing, "ERR ..." for an error; "" when redis could not be reached.
std::string redis(int port, const std::vector<std::string>& args) {
  const int fd = connect_to(port);
  if (fd < 0) return {};
  std::string request = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& arg : args) request += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
  if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return {};
  }
  std::string in;
  auto fill = [&](std::size_t want) {
    char buffer[4096];
    while (in.size() < want) {
      const ssize_t n = read(fd, buffer, sizeof buffer);
      if (n <= 0) return false;
      in.append(buffer, static_cast<std::size_t>(n));
    }
    return true;
  };
  std::size_t at = 0;
  auto line = [&]() -> std::optional<std::string> {
    for (;;) {
      const auto end = in.find("\r\n", at);
      if (end != std::string::npos) {
        std::string text = in.substr(at, end - at);
        at = end + 2;
        return text;
      }
      if (!fill(in.size() + 1)) return std::nullopt;
    }
  };
  std::function<std::optional<std::string>()> value = [&]() -> std::optional<std::string> {
    const auto head = line();
    if (!head || head->empty()) return std::nullopt;
    const std::string rest = head->substr(1);
    switch ((*head)[0]) {
      case '+':
      case ':':
      case '-':
        return rest;
      case '$': {
        const long size = std::stol(rest);
        if (size < 0) return "(nil)";
        if (!fill(at + static_cast<std::size_t>(size) + 2)) return std::nullopt;
        std::string text = in.substr(at, static_cast<std::size_t>(size));
        at += static_cast<std::size_t>(size) + 2;
        return text;
      }
      case '*': {
        std::string all;
        for (long i = 0, n = std::stol(rest); i < n; ++i) {
          const auto element = value();
          if (!element) return std::nullopt;
          all += (i ? "\n" : "") + *element;
        }
        return all;
      }
    }
    return std::nullopt;
  };
  const auto reply = value();
  close(fd);
  return reply.value_or("");
}

// Waits until `done()` holds or `timeout` passes; whether it holds.
bool eventually(const std::function<bool()>& done, Ms timeout = Ms(30000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(Ms(50));
  }
  return true;
}

// An HTTP/1.0 GET of / on 127.0.0.1:port: the whole answer.
std::string http_get(int port) {
  const int fd = connect_to(port);
  if (fd < 0) return {};
  const std::string request = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
  std::string answer;
  if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
    char buffer[4096];
    for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;) {
      answer.append(buffer, static_cast<std::size_t>(n));
    }
  }
  close(fd);
  return answer;
}

// Where the servers keep their state: a directory every user may enter,
// since a clone (and the sandbox) may sit where only root can go.
class StateDir {
 public:
  StateDir() {
    std::string pattern = "/tmp/otpd-stack-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    chmod(pattern.c_str(), 0755);
    dir_ = pattern + "/state";
    root_ = pattern;
  }
  ~StateDir() {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string root_;
  std::string dir_;
};

otpd::ctl_test::Outcome otpctl(const Sandbox& box, std::vector<std::string> args) {
  return otpd::ctl_test::run_otpctl(std::move(args), {"OTPD_SOCKET=" + box.path("otpd.sock")},
                                    Ms(kServerPatience));
}

// Where in the order of events "KIND PATH" first happened, or -1.
long position(const std::vector<std::string>& events, const std::string& event) {
  const auto found = std::find(events.begin(), events.end(), event);
  return found == events.end() ? -1 : found - events.begin();
}

}  // namespace

TEST_CASE("the example stack: readiness order, rest_for_one, a reload, a clean shutdown") {
  if (const std::string why = unavailable(); !why.empty()) {
    MESSAGE("skipped: " << why);
    return;
  }
  StateDir state;
  const std::string prepare = kExampleDir + "/prepare '" + state.dir() + "' >&2";
  REQUIRE_MESSAGE(std::system(prepare.c_str()) == 0, "config/examples/stack/prepare failed");

  const int pg_port = free_port();
  const int redis_port = free_port();
  const int web_port = free_port();
  const std::map<std::string, std::string> moves{{"/var/lib/otpd-stack", state.dir()},
                                                 {"15432", std::to_string(pg_port)},
                                                 {"16379", std::to_string(redis_port)},
                                                 {"18080", std::to_string(web_port)}};
  Sandbox box;
  fs::create_directory(box.path("stack"));
  box.write("stack/nginx.conf", replaced(read_text(kExampleDir + "/nginx.conf"), moves));
  const std::string yaml = replaced(read_text(kExample), moves);

  Otpd otpd = Otpd::run(box, yaml);
  REQUIRE_MESSAGE(otpd.wait_event("web", "ready", 1, kServerPatience), otpd.transcript());

  // Each starts once the one before it is ready.
  const auto order = otpd.events({"started", "ready"});
  const std::vector<std::string> expected{"started backend/postgres",
                                          "ready backend/postgres",
                                          "started backend/redis",
                                          "ready backend/redis",
                                          "started backend/app",
                                          "ready backend/app",
                                          "started web",
                                          "ready web"};
  for (std::size_t i = 0; i + 1 < expected.size(); ++i) {
    CHECK_MESSAGE(position(order, expected[i]) >= 0, expected[i]);
    CHECK_MESSAGE(position(order, expected[i]) < position(order, expected[i + 1]),
                  expected[i] << " before " << expected[i + 1]);
  }
  CHECK(otpd.event("backend/redis", "ready")->str("reason") == "READY=1");
  CHECK(otpd.event("backend/postgres", "ready")->str("reason").find("pg_isready") !=
        std::string::npos);
  CHECK(http_get(web_port).find("served by nginx under otpd") != std::string::npos);

  // The app works: a job through redis.
  CHECK(redis(redis_port, {"RPUSH", "jobs", "first"}) == "1");
  CHECK_MESSAGE(eventually([&] {
                  return redis(redis_port, {"LRANGE", "done", "0", "-1"}) == "app-v1:first";
                }),
                otpd.transcript());

  // redis dies: rest_for_one brings back redis, then the app, after it;
  // postgres, started before redis, runs on.
  const int postgres = otpd.pid_of("backend/postgres");
  const int web = otpd.pid_of("web");
  const int redis_pid = otpd.pid_of("backend/redis");
  REQUIRE(kill(redis_pid, SIGKILL) == 0);
  REQUIRE_MESSAGE(otpd.wait_event("backend/app", "ready", 2, kServerPatience), otpd.transcript());
  CHECK(otpd.count("backend/redis", "ready") == 2);
  CHECK(otpd.count("backend/postgres", "started") == 1);
  CHECK(otpd.pid_of("backend/postgres") == postgres);
  const auto app = otpctl(box, {"status", "app", "--json"});
  REQUIRE_MESSAGE(app.code == 0, app.shown());
  const auto node = nlohmann::json::parse(app.out);
  CHECK(node.value("path", "") == "backend/app");
  CHECK(node.value("restarts", 0) == 1);
  CHECK(node["last_exit"].value("stopped_for", "") ==
        "rest_for_one restart after 'redis' killed by SIGKILL");
  CHECK(redis(redis_port, {"RPUSH", "jobs", "second"}) == "1");
  CHECK_MESSAGE(eventually([&] {
                  return redis(redis_port, {"LRANGE", "done", "0", "-1"}).find("app-v1:second") !=
                         std::string::npos;
                }),
                otpd.transcript());

  // A changed app: a reload restarts it alone.
  const int redis_now = otpd.pid_of("backend/redis");
  box.write("otpd.yaml", replaced(yaml, {{"APP_NAME: app-v1", "APP_NAME: app-v2"}}));
  const auto reload = otpctl(box, {"reload", "--json", "--timeout", "120s"});
  REQUIRE_MESSAGE(reload.code == 0, reload.shown());
  const auto changed = nlohmann::json::parse(reload.out)["changed"];
  REQUIRE(changed.size() == 1);
  CHECK(changed[0].value("path", "") == "backend/app");
  REQUIRE_MESSAGE(otpd.wait_event("backend/app", "ready", 3, kServerPatience), otpd.transcript());
  CHECK(otpd.pid_of("backend/redis") == redis_now);
  CHECK(otpd.pid_of("backend/postgres") == postgres);
  CHECK(otpd.pid_of("web") == web);
  CHECK(redis(redis_port, {"RPUSH", "jobs", "third"}) == "1");
  CHECK_MESSAGE(eventually([&] {
                  return redis(redis_port, {"LRANGE", "done", "0", "-1"}).find("app-v2:third") !=
                         std::string::npos;
                }),
                otpd.transcript());

  // A shutdown stops everything, in reverse order; redis saves on SIGTERM.
  CHECK(redis(redis_port, {"SET", "saved-by", "otpd-shutdown"}) == "OK");
  const std::vector<int> pids{postgres, redis_now, otpd.pid_of("backend/app"), web};
  otpd.signal(SIGTERM);
  REQUIRE_MESSAGE(otpd.wait_exit(kServerPatience) == 0, otpd.transcript());
  auto stops = otpd.events({"stopped"});
  std::erase_if(stops,
                [](const std::string& e) { return e == "stopped backend" || e == "stopped /"; });
  // The app's earlier stops (the restart, the reload) come first.
  REQUIRE(stops.size() >= 4);
  CHECK(std::vector<std::string>(stops.end() - 4, stops.end()) ==
        std::vector<std::string>{"stopped web", "stopped backend/app", "stopped backend/redis",
                                 "stopped backend/postgres"});
  for (const int pid : pids) CHECK_MESSAGE(!running(pid), "pid " << pid << " still runs");
  CHECK(strays().empty());
  CHECK(!fs::exists(state.dir() + "/postgres/postmaster.pid"));  // a clean stop
  CHECK(!fs::exists(state.dir() + "/nginx/nginx.pid"));
  CHECK(read_text(state.dir() + "/redis/dump.rdb").find("otpd-shutdown") != std::string::npos);
  CHECK(!otpd.logged("still running"));
}
