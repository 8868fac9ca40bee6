// What a hostile HTTP client can do to a real otpd: oversized and malformed
// requests get a clear 4xx, a slow client is cut off, a flood of connections
// is answered 503 past the cap and never takes the descriptors the control
// socket and the tree need; otpd goes on supervising through all of it.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "http_client.hpp"
#include "live_daemon.hpp"

namespace {

using namespace otpd::http_test;
using otpd::ctl_test::LiveDaemon;
namespace it = otpd::it;

std::string config(int port, std::string_view http_extra = "") {
  return http_section(port, http_extra) +
         "tree:\n"
         "  children:\n"
         "    - name: a\n"
         "      command: [@CHILD@, --name, a]\n";
}

// otpd still supervises: a killed child comes back, and both listeners answer.
void check_unharmed(LiveDaemon& d, const Endpoint& http, int restarts_before) {
  const int pid = d.otpd.pid_of("a");
  REQUIRE(pid > 0);
  ::kill(pid, SIGKILL);
  CHECK(d.otpd.wait_event("a", "started", restarts_before + 2));
  CHECK(d.ctl({"ping"}).code == 0);
  CHECK(get(http, "/healthz").status == 200);
}

int raise_open_files(rlim_t wanted) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = std::min(wanted, limit.rlim_max);
  setrlimit(RLIMIT_NOFILE, &limit);
  return static_cast<int>(limit.rlim_cur);
}

}  // namespace

TEST_CASE("Oversized headers, bodies and URLs get 431, 413 and 414") {
  const int port = free_port();
  LiveDaemon d(config(port));
  const Endpoint http{port, {}};
  const Reply header = get(http, "/metrics", {"X-Big: " + std::string(20000, 'x')});
  CHECK_MESSAGE(header.status == 431, header.status << " " << header.error);
  const Reply many = get(http, "/metrics", std::vector<std::string>(2000, "X-A: b"));
  CHECK(many.status == 431);
  const Reply body = request(http, "POST", "/api/login", {}, std::string(100000, 'y'));
  CHECK(body.status == 413);
  const Reply declared = exchange(
      http, "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999\r\n\r\n");
  CHECK(declared.status == 413);
  const Reply url = get(http, "/" + std::string(7000, 'u'));
  CHECK((url.status == 414 || url.status == 431));
  check_unharmed(d, http, 0);
}

TEST_CASE("Malformed requests get 400 and the connection closes") {
  const int port = free_port();
  LiveDaemon d(config(port));
  const Endpoint http{port, {}};
  for (const std::string& raw : {
           std::string("HELLO\r\n\r\n"),
           std::string("GET /metrics HTTP/9.9\r\nHost: x\r\n\r\n"),
           std::string("GET /metrics HTTP/1.1\r\nHost x\r\n\r\n"),
           std::string("G(T /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
           std::string("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                       "Content-Length: 6\r\n\r\nhello!"),
           std::string("POST /api/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "zz\r\n"),
           std::string("GET /metrics HTTP/1.1\r\n\r\n"),  // no Host
           std::string("GET metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
           std::string("GET /api/logs?path=%zz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
           std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),  // TLS hello
           std::string(4096, '\0'),
       }) {
    const Reply reply = exchange(http, raw, Ms(5000));
    CHECK_MESSAGE(reply.status == 400, "sent " << raw.substr(0, 40) << ": " << reply.status << " "
                                               << reply.error << " " << reply.body);
  }
  check_unharmed(d, http, 0);
}

TEST_CASE("A client that sends too slowly is answered 408, and others are served meanwhile") {
  const int port = free_port();
  LiveDaemon d(config(port));
  const Endpoint http{port, {}};
  const int slow = connect_to(http);
  REQUIRE(slow >= 0);
  const auto started = std::chrono::steady_clock::now();
  const std::string start = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  REQUIRE(::send(slow, start.data(), start.size(), MSG_NOSIGNAL) > 0);
  // A byte every half second keeps no connection open forever.
  Reply answer;
  for (int i = 0; i < 40; ++i) {
    CHECK(get(http, "/healthz").status == 200);
    pollfd p{slow, POLLIN, 0};
    if (::poll(&p, 1, 500) == 1) {
      answer = read_reply(slow, Ms(1000));
      break;
    }
    [[maybe_unused]] const ssize_t n = ::send(slow, "X", 1, MSG_NOSIGNAL);
  }
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(answer.status == 408);
  CHECK(took < std::chrono::seconds(15));
  ::close(slow);
  // A connection that sends nothing at all is closed after the same time.
  const int idle = connect_to(http);
  REQUIRE(idle >= 0);
  pollfd p{idle, POLLIN, 0};
  CHECK(::poll(&p, 1, 15000) == 1);
  char byte;
  CHECK(::recv(idle, &byte, 1, 0) == 0);
  ::close(idle);
}

TEST_CASE("1,000 connections at once: 503 past max_connections, and otpd carries on") {
  raise_open_files(4096);
  const int port = free_port();
  LiveDaemon d(config(port, ", max_connections: 100"));
  const Endpoint http{port, {}};
  std::vector<int> fds;
  for (int i = 0; i < 1000; ++i) {
    const int fd = connect_to(http);
    if (fd >= 0) fds.push_back(fd);
  }
  CHECK(fds.size() == 1000);
  // Those past the cap are answered 503 and closed at once; the rest wait
  // for a request.
  int refused = 0;
  std::vector<bool> answered(fds.size(), false);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (refused < 900 && std::chrono::steady_clock::now() < deadline) {
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (answered[i]) continue;
      pollfd p{fds[i], POLLIN, 0};
      if (::poll(&p, 1, 0) != 1) continue;
      answered[i] = true;
      if (read_reply(fds[i], Ms(2000)).status == 503) ++refused;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(refused == 900);
  CHECK(d.ctl({"ping"}).code == 0);
  for (int fd : fds) ::close(fd);
  const Endpoint& e = http;
  Reply metrics;
  for (int i = 0; i < 200; ++i) {
    metrics = get(e, "/metrics");
    if (metrics.status == 200 && contains(metrics.body, "otpd_http_connections 1\n")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK_MESSAGE(contains(metrics.body, "otpd_http_connections 1\n"), metrics.body);
  CHECK(contains(metrics.body, "otpd_http_refused_total{reason=\"busy\"} 900\n"));
  check_unharmed(d, http, 0);
}

TEST_CASE("Short of descriptors, HTTP answers 503 and leaves the rest to the control socket") {
  raise_open_files(4096);
  const int port = free_port();
  it::Sandbox box;
  const std::string socket = box.path("otpd.sock");
  // otpd may open 200 descriptors and no more: it cannot raise the limit.
  it::Otpd otpd = it::Otpd::run(box, config(port, ", max_connections: 1000"),
                                it::Options{.env = {"OTPD_SOCKET=" + socket},
                                            .wrapper = {"/usr/bin/prlimit", "--nofile=200:200"}});
  REQUIRE_MESSAGE(otpd.wait_message("tree started"), otpd.transcript());
  const Endpoint http{port, {}};
  std::vector<int> fds;
  int refused = 0;
  for (int i = 0; i < 400; ++i) {
    const int fd = connect_to(http);
    if (fd < 0) continue;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) == 1 && read_reply(fd, Ms(1000)).status == 503) {
      ++refused;
      ::close(fd);
      continue;
    }
    fds.push_back(fd);
  }
  CHECK(refused > 0);
  CHECK(fds.size() < 200);
  const auto ping = otpd::ctl_test::run_otpctl({"ping"}, {"OTPD_SOCKET=" + socket});
  CHECK_MESSAGE(ping.code == 0, ping.shown());
  const auto status = otpd::ctl_test::run_otpctl({"status"}, {"OTPD_SOCKET=" + socket});
  CHECK(status.code == 0);
  for (int fd : fds) ::close(fd);
  // And a child still restarts: its pipes and pidfd find descriptors.
  const int pid = otpd.pid_of("a");
  ::kill(pid, SIGKILL);
  CHECK(otpd.wait_event("a", "started", 2));
}

TEST_CASE("An event stream whose reader never reads is dropped, not buffered without end") {
  const int port = free_port();
  LiveDaemon d(http_section(port) +
               "tree:\n"
               "  intensity: 1000000\n"
               "  period: 1s\n"
               "  children:\n"
               "    - name: crasher\n"
               "      command: [@CHILD@, --name, crasher, --exit-after, 1, --code, 1]\n");
  const Endpoint http{port, {}};
  const int fd = connect_to(http, Ms(5000), 4096);
  REQUIRE(fd >= 0);
  const std::string ask = "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  REQUIRE(::send(fd, ask.data(), ask.size(), MSG_NOSIGNAL) > 0);
  Reply metrics;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    metrics = get(http, "/metrics");
    if (contains(metrics.body, "otpd_http_streams_dropped_total 1\n")) break;
    // Reading otpd's log meanwhile: a crash loop fills the pipe it logs to.
    d.otpd.wait_for([] { return false; }, Ms(100));
  }
  CHECK_MESSAGE(contains(metrics.body, "otpd_http_streams_dropped_total 1\n"),
                metrics.status << " " << metrics.error << "\n"
                               << metrics.body);
  ::close(fd);
}
