// The HTTP listener of a real otpd: /metrics, the probes, the page's API,
// the admin token and the event stream, driven as Prometheus, a kubelet
// and a browser would.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "http_client.hpp"
#include "live_daemon.hpp"

namespace {

using namespace otpd::http_test;
using otpd::ctl_test::LiveDaemon;
namespace it = otpd::it;

std::string two_children(int port, std::string_view http_extra = "") {
  return http_section(port, http_extra) +
         "tree:\n"
         "  children:\n"
         "    - name: a\n"
         "      command: [@CHILD@, --name, a, --print, 3]\n"
         "    - name: b\n"
         "      command: [@CHILD@, --name, b]\n";
}

// Asks until `done(reply)` holds or 10 s pass.
Reply poll_until(const Endpoint& endpoint, const std::string& target,
                 const std::function<bool(const Reply&)>& done) {
  Reply reply;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    reply = get(endpoint, target);
    if (done(reply)) return reply;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return reply;
}

std::string write_token(const it::Sandbox& box, const std::string& token, mode_t mode) {
  const std::string file = box.path("admin.token");
  std::ofstream(file) << token << "\n";
  ::chmod(file.c_str(), mode);
  return file;
}

}  // namespace

TEST_CASE("/metrics shows each child, and its restart counter moves after a kill") {
  const int port = free_port();
  LiveDaemon d(two_children(port));
  const Endpoint http{port, {}};
  Reply metrics = get(http, "/metrics");
  REQUIRE_MESSAGE(metrics.status == 200, metrics.error << d.otpd.transcript());
  CHECK(metrics.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(contains(metrics.body, "otpd_child_up{path=\"a\",supervisor=\"/\",kind=\"process\"} 1\n"));
  CHECK(contains(metrics.body, "otpd_child_restarts_total{path=\"a\",supervisor=\"/\"} 0\n"));
  CHECK(contains(metrics.body, "otpd_supervisor_intensity_max{supervisor=\"/\"} 3\n"));
  CHECK(contains(metrics.body, "otpd_tree_ready 1\n"));
  CHECK(contains(metrics.body, "# TYPE otpd_child_restarts_total counter\n"));

  const int pid = d.box.pid("a");
  REQUIRE(pid > 0);
  ::kill(pid, SIGKILL);
  REQUIRE(d.otpd.wait_event("a", "started", 2));
  metrics = poll_until(http, "/metrics", [](const Reply& r) {
    return contains(r.body, "otpd_child_restarts_total{path=\"a\",supervisor=\"/\"} 1\n");
  });
  CHECK_MESSAGE(
      contains(metrics.body, "otpd_child_restarts_total{path=\"a\",supervisor=\"/\"} 1\n"),
      metrics.body);
  CHECK(contains(metrics.body, "otpd_child_last_exit_signal{path=\"a\",supervisor=\"/\"} 9\n"));
  CHECK(contains(metrics.body, "otpd_supervisor_intensity_used{supervisor=\"/\"} 1\n"));
  CHECK(contains(metrics.body, "otpd_events_total{kind=\"exited\"} 1\n"));
  CHECK(contains(metrics.body, "otpd_child_restarts_total{path=\"b\",supervisor=\"/\"} 0\n"));
}

TEST_CASE("/healthz and /readyz answer probes, and otpctl health says the same") {
  const int port = free_port();
  const int never = free_port();
  it::Sandbox box;
  const std::string socket = box.path("otpd.sock");
  // db says it is ready when its port accepts, which it never does.
  it::Otpd otpd = it::Otpd::run(box,
                                http_section(port) +
                                    "tree:\n"
                                    "  children:\n"
                                    "    - name: db\n"
                                    "      command: [@CHILD@, --name, db]\n"
                                    "      ready: {tcp: " +
                                    std::to_string(never) + "}\n",
                                it::Options{{"OTPD_SOCKET=" + socket}});
  const Endpoint http{port, {}};
  const Reply live = poll_until(http, "/healthz", [](const Reply& r) { return r.status != 0; });
  CHECK_MESSAGE(live.status == 200, live.error << otpd.transcript());
  CHECK(live.body == "ok\n");
  const Reply ready = get(http, "/readyz");
  CHECK(ready.status == 503);
  CHECK_MESSAGE(ready.body == "not ready: the tree is starting\n", ready.body);

  const auto health = otpd::ctl_test::run_otpctl({"health"}, {"OTPD_SOCKET=" + socket});
  CHECK_MESSAGE(health.code == 1, health.shown());
  CHECK(contains(health.out, "not ready: the tree is starting"));
  const auto live_only =
      otpd::ctl_test::run_otpctl({"health", "--live"}, {"OTPD_SOCKET=" + socket});
  CHECK_MESSAGE(live_only.code == 0, live_only.shown());
  const auto json = otpd::ctl_test::run_otpctl({"health", "--json"}, {"OTPD_SOCKET=" + socket});
  const auto parsed = nlohmann::json::parse(json.out, nullptr, false);
  CHECK_MESSAGE(parsed.is_object(), json.shown());
  if (parsed.is_object()) {
    CHECK(parsed["live"] == true);
    CHECK(parsed["ready"] == false);
  }
  const auto gone =
      otpd::ctl_test::run_otpctl({"health"}, {"OTPD_SOCKET=" + box.path("none.sock")});
  CHECK_MESSAGE(gone.code == 3, gone.shown());
}

TEST_CASE("/readyz waits for ready-gated children, and fails again while one is down") {
  const int port = free_port();
  const int db_port = free_port();
  LiveDaemon d(http_section(port) +
               "tree:\n"
               "  children:\n"
               "    - name: db\n"
               "      command: [@CHILD@, --name, db, --listen, " +
               std::to_string(db_port) +
               "]\n"
               "      ready: {tcp: " +
               std::to_string(db_port) +
               "}\n"
               "      backoff: {initial: 2s, max: 2s}\n");
  const Endpoint http{port, {}};
  CHECK(get(http, "/readyz").status == 200);
  CHECK(d.ctl({"health"}).code == 0);
  ::kill(d.box.pid("db"), SIGKILL);
  REQUIRE(d.otpd.wait_event("db", "restarting"));
  const Reply waiting = get(http, "/readyz");
  CHECK(waiting.status == 503);
  CHECK_MESSAGE(contains(waiting.body, "not ready: waiting for db ("), waiting.body);
  // The pending restart is in the status, with its time.
  const auto status = d.ctl({"status", "--json"});
  const auto tree = nlohmann::json::parse(status.out, nullptr, false);
  REQUIRE(tree.is_object());
  const auto& db = tree["children"][0];
  CHECK(db["state"] == "backoff");
  CHECK(db.contains("next_restart_at_ms"));
  CHECK(db.contains("last_exit_at_ms"));
  const Reply back = poll_until(http, "/readyz", [](const Reply& r) { return r.status == 200; });
  CHECK(back.status == 200);
}

TEST_CASE("The page and its API answer only to local names and configured hosts") {
  const int port = free_port();
  LiveDaemon d(two_children(port, ", allowed_hosts: [otpd.test]"));
  const Endpoint http{port, {}};
  Reply page = get(http, "/");
  REQUIRE(page.status == 200);
  CHECK(page.headers["content-type"] == "text/html; charset=utf-8");
  CHECK(contains(page.body, "<title>otpd</title>"));
  CHECK(contains(page.headers["content-security-policy"], "default-src 'none'"));
  CHECK(get(http, "/app.js").status == 200);
  CHECK(get(http, "/app.css").status == 200);
  CHECK(get(http, "/", {"Host: localhost:" + std::to_string(port)}).status == 200);
  CHECK(get(http, "/api/tree", {"Host: otpd.test"}).status == 200);
  // A name that resolves to 127.0.0.1 under an attacker's control.
  const Reply rebound = get(http, "/api/tree", {"Host: evil.example:" + std::to_string(port)});
  CHECK(rebound.status == 421);
  // Probes and scrapes come with whatever name the prober used.
  CHECK(get(http, "/metrics", {"Host: 10.1.2.3:9100"}).status == 200);
  CHECK(get(http, "/healthz", {"Host: pod.internal"}).status == 200);

  const Reply tree = get(http, "/api/tree");
  const auto json = nlohmann::json::parse(tree.body, nullptr, false);
  REQUIRE(json.is_object());
  CHECK(json["children"].size() == 2);
  REQUIRE(d.otpd.wait_recorded(d.box, "printed", "a"));
  const Reply logs = poll_until(http, "/api/logs?path=a&lines=10",
                                [](const Reply& r) { return contains(r.body, "a err 3"); });
  CHECK_MESSAGE(contains(logs.body, "\"a out 1\""), logs.body);
  CHECK(get(http, "/api/logs?path=nope").status == 404);
  CHECK(get(http, "/api/logs?path=a&lines=x").status == 400);
  CHECK(get(http, "/nothing-here").status == 404);
  Reply post = request(http, "POST", "/metrics");
  CHECK(post.status == 405);
  CHECK(post.headers["allow"] == "GET, HEAD");
  const Reply head = request(http, "HEAD", "/metrics");
  CHECK(head.status == 200);
}

TEST_CASE("Actions are off without an admin token file") {
  const int port = free_port();
  LiveDaemon d(two_children(port));
  const Endpoint http{port, {}};
  const Reply info = get(http, "/api/info");
  CHECK(contains(info.body, "\"admin\":false"));
  const Reply refused = request(http, "POST", "/api/action/restart?path=a",
                                {"Authorization: Bearer whatever-it-may-be"});
  CHECK(refused.status == 403);
  CHECK(d.otpd.count("a", "stopping") == 0);
}

TEST_CASE("Actions need the admin token in a header, on every request, from this host's page") {
  const int port = free_port();
  it::Sandbox secrets;
  const std::string file = write_token(secrets, "s3cret-token-0123456789abcdef", 0600);
  LiveDaemon d(two_children(port, ", admin_token_file: " + file));
  const Endpoint http{port, {}};
  CHECK(contains(get(http, "/api/info").body, "\"admin\":true"));
  const std::string good = "Authorization: Bearer s3cret-token-0123456789abcdef";
  CHECK(request(http, "POST", "/api/action/restart?path=a").status == 401);
  CHECK(request(http, "POST", "/api/action/restart?path=a",
                {"Authorization: Bearer wrong-token-0123456789"})
            .status == 401);
  CHECK(request(http, "POST", "/api/action/restart?path=a&token=s3cret-token-0123456789abcdef")
            .status == 400);
  CHECK(request(http, "POST", "/api/action/restart?path=a", {good, "Origin: http://evil.example"})
            .status == 403);
  CHECK(request(http, "GET", "/api/action/restart?path=a", {good}).status == 405);
  CHECK(request(http, "POST", "/api/action/restart?path=nope", {good}).status == 404);
  const int before = d.box.pid("a");
  const Reply restarted = request(http, "POST", "/api/action/restart?path=a",
                                  {good, "Origin: http://127.0.0.1:" + std::to_string(port)});
  CHECK_MESSAGE(restarted.status == 200, restarted.body);
  REQUIRE(d.otpd.wait_event("a", "started", 2));
  CHECK(d.otpd.pid_of("a") != before);
  const Reply stopped = request(http, "POST", "/api/action/stop?path=b", {good});
  CHECK(stopped.status == 200);
  CHECK(contains(stopped.body, "\"state\":\"stopped\""));
  CHECK(request(http, "POST", "/api/action/start?path=b", {good}).status == 200);
  CHECK(request(http, "POST", "/api/login", {good}).status == 200);
  CHECK(request(http, "POST", "/api/login", {"Authorization: Bearer nope-nope-nope-nope"}).status ==
        401);
}

TEST_CASE("Actions take a name unique in the tree, as otpctl does, and refuse one that is not") {
  const int port = free_port();
  it::Sandbox secrets;
  const std::string file = write_token(secrets, "s3cret-token-0123456789abcdef", 0600);
  LiveDaemon d(http_section(port, ", admin_token_file: " + file) +
               "tree:\n"
               "  children:\n"
               "    - name: backend\n"
               "      children:\n"
               "        - name: redis\n"
               "          command: [@CHILD@, --name, redis]\n"
               "        - name: web\n"
               "          command: [@CHILD@, --name, backend-web]\n"
               "    - name: frontend\n"
               "      children:\n"
               "        - name: web\n"
               "          command: [@CHILD@, --name, frontend-web]\n");
  const Endpoint http{port, {}};
  const std::string good = "Authorization: Bearer s3cret-token-0123456789abcdef";
  REQUIRE_MESSAGE(d.otpd.wait_event("backend/redis", "started"), d.otpd.transcript());

  const Reply stopped = request(http, "POST", "/api/action/stop?path=redis", {good});
  CHECK_MESSAGE(stopped.status == 200, stopped.body);
  CHECK(contains(stopped.body, "\"path\":\"backend/redis\""));
  CHECK(contains(stopped.body, "\"state\":\"stopped\""));
  CHECK(d.otpd.wait_event("backend/redis", "stopped"));

  const Reply unknown = request(http, "POST", "/api/action/stop?path=rediss", {good});
  CHECK(unknown.status == 404);
  CHECK_MESSAGE(contains(unknown.body,
                         "no child 'rediss' in the tree (did you mean "
                         "'backend/redis'?)"),
                unknown.body);

  const Reply ambiguous = request(http, "POST", "/api/action/restart?path=web", {good});
  CHECK(ambiguous.status == 400);
  CHECK_MESSAGE(contains(ambiguous.body,
                         "'web' is the name of 2 children (backend/web, frontend/web): write the "
                         "path of one"),
                ambiguous.body);
  CHECK(d.otpd.count("backend/web", "stopping") == 0);
  CHECK(d.otpd.count("frontend/web", "stopping") == 0);

  // Its captured output too.
  const Reply logs = get(http, "/api/logs?path=redis");
  CHECK_MESSAGE(logs.status == 200, logs.body);
  CHECK(contains(logs.body, "\"path\":\"backend/redis\""));
  CHECK(get(http, "/api/logs?path=web").status == 404);
}

TEST_CASE("A token file others can read, or a short token, stops otpd at start") {
  for (const auto& [token, mode, message] :
       {std::tuple{std::string("s3cret-token-0123456789abcdef"), mode_t{0644},
                   "may be read by anyone"},
        std::tuple{std::string("short"), mode_t{0600}, "at least 16 characters"}}) {
    it::Sandbox box;
    write_token(box, token, mode);
    const std::string config =
        box.write("otpd.yaml", two_children(free_port(), ", admin_token_file: ./admin.token"));
    const auto result = it::run_to_end({"--config", config, "--socket", box.path("s.sock")});
    CHECK(result.code == 2);
    CHECK_MESSAGE(contains(result.err, message), result.err);
  }
}

TEST_CASE("The listener on a Unix socket, and its file gone when otpd is") {
  it::Sandbox box;
  const std::string path = box.path("http.sock");
  it::Otpd otpd =
      it::Otpd::run(box,
                    "http: {listen: ./http.sock}\n"
                    "tree:\n  children:\n    - name: a\n      command: [@CHILD@, --name, a]\n",
                    it::Options{{"OTPD_SOCKET=" + box.path("otpd.sock")}});
  REQUIRE(otpd.wait_message("tree started"));
  const Endpoint http{0, path};
  const Reply metrics = get(http, "/metrics", {"Host: anything"});
  CHECK_MESSAGE(metrics.status == 200, metrics.error);
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0660);
  otpd.signal(SIGTERM);
  CHECK(otpd.wait_exit() == 0);
  CHECK(::access(path.c_str(), F_OK) != 0);
}

TEST_CASE("A port in use stops otpd before it starts anything") {
  const int port = free_port();
  LiveDaemon first(two_children(port));
  it::Sandbox box;
  const std::string config = box.write("otpd.yaml", two_children(port));
  const auto result = it::run_to_end({"--config", config, "--socket", box.path("s.sock")});
  CHECK(result.code == 1);
  CHECK_MESSAGE(contains(result.err, "http: cannot listen on 127.0.0.1:" + std::to_string(port)),
                result.err);
  CHECK(box.records().empty());
}

namespace {

// The value of the sample `line` (name and labels) in a /metrics answer, or -1.
double sample_of(const std::string& metrics, const std::string& line) {
  const auto at = metrics.find("\n" + line + " ");
  return at == std::string::npos ? -1
                                 : std::strtod(metrics.c_str() + at + line.size() + 2, nullptr);
}

}  // namespace

TEST_CASE("/metrics counts an in-process worker's messages and what waits in its mailbox") {
  const int port = free_port();
  LiveDaemon d(http_section(port) +
               "tree:\n"
               "  children:\n"
               "    - name: settings\n"
               "      worker: {kind: agent, value: 0}\n");
  const Endpoint http{port, {}};
  const std::string handled = "otpd_worker_messages_total{path=\"settings\",supervisor=\"/\"}";
  const std::string waiting = "otpd_worker_mailbox_length{path=\"settings\",supervisor=\"/\"}";
  const Reply before = get(http, "/metrics");
  REQUIRE_MESSAGE(before.status == 200, before.error << d.otpd.transcript());
  const double handled_before = sample_of(before.body, handled);
  REQUIRE(handled_before >= 0);
  for (int i = 1; i <= 5; ++i) {
    REQUIRE(d.ctl({"cast", "settings", "{\"put\": " + std::to_string(i) + "}"}).code == 0);
  }
  REQUIRE(d.ctl({"call", "settings", "get"}).out.find('5') != std::string::npos);
  const Reply after = get(http, "/metrics");
  CHECK_MESSAGE(sample_of(after.body, handled) >= handled_before + 6, after.body);
  CHECK(sample_of(after.body, waiting) == 0);
  CHECK(contains(after.body, "# TYPE otpd_worker_messages_total counter\n"));
  // A process has no mailbox.
  CHECK_FALSE(contains(after.body, "otpd_worker_messages_total{path=\"a\""));
}

TEST_CASE("The event stream starts with the tree and tells a killed child's new state") {
  const int port = free_port();
  LiveDaemon d(two_children(port));
  const Endpoint http{port, {}};
  const int fd = connect_to(http);
  REQUIRE(fd >= 0);
  const std::string ask = "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  REQUIRE(::send(fd, ask.data(), ask.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(ask.size()));
  std::string stream;
  auto read_until = [&](const std::string& part) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!contains(stream, part) && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) != 1) continue;
      char buffer[65536];
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      stream.append(buffer, static_cast<std::size_t>(n));
    }
    return contains(stream, part);
  };
  REQUIRE_MESSAGE(read_until("event: tree\ndata: {"), stream);
  CHECK(contains(stream, "Content-Type: text/event-stream"));
  const int pid = d.box.pid("b");
  ::kill(pid, SIGKILL);
  CHECK_MESSAGE(read_until("event: event\ndata: {"), stream);
  CHECK_MESSAGE(read_until("\"path\":\"b\",\"event\":\"exited\""), stream);
  CHECK_MESSAGE(read_until("event: node\ndata: {\"path\":\"b\""), stream);
  ::close(fd);
  // otpd lets the stream go.
  const Reply metrics = poll_until(http, "/metrics", [](const Reply& r) {
    return contains(r.body, "otpd_http_connections 1\n");
  });
  CHECK_MESSAGE(contains(metrics.body, "otpd_http_connections 1\n"), metrics.body);
}

TEST_CASE(
    "A reload moves the listener to a new address, and keeps it where it was when it cannot") {
  const int port = free_port();
  LiveDaemon d(two_children(port));
  const Endpoint old_http{port, {}};
  REQUIRE(get(old_http, "/healthz").status == 200);

  SUBCASE("to a free port") {
    // A page's stream on the old listener ends with it.
    const int stream = connect_to(old_http);
    REQUIRE(stream >= 0);
    const std::string ask = "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    REQUIRE(::send(stream, ask.data(), ask.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(ask.size()));
    const auto read_until_end = [&] {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      std::string seen;
      while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{stream, POLLIN, 0};
        if (::poll(&p, 1, 100) != 1) continue;
        char buffer[65536];
        const ssize_t n = ::recv(stream, buffer, sizeof buffer, 0);
        if (n <= 0) return true;
        seen.append(buffer, static_cast<std::size_t>(n));
      }
      return false;
    };
    const int next = free_port();
    d.box.write("otpd.yaml", two_children(next));
    const auto reload = d.ctl({"reload"});
    CHECK(reload.code == 0);
    CHECK_MESSAGE(
        contains(reload.out, "~ http: listening on http://127.0.0.1:" + std::to_string(next) +
                                 "/ instead of http://127.0.0.1:" + std::to_string(port) + "/"),
        reload.out << reload.err);
    CHECK(contains(reload.out, "no changes to the tree"));
    CHECK(get(Endpoint{next, {}}, "/healthz").status == 200);
    CHECK(connect_to(old_http, std::chrono::milliseconds(1000)) < 0);
    CHECK(read_until_end());
    ::close(stream);
    // Events after the old streams are gone reach nobody's freed stream.
    ::kill(d.box.pid("b"), SIGKILL);
    REQUIRE(d.otpd.wait_event("b", "started", 2));
    CHECK(get(Endpoint{next, {}}, "/healthz").status == 200);
    // The counts go on from the old listener's.
    CHECK(sample_of(get(Endpoint{next, {}}, "/metrics").body, "otpd_http_requests_total") >= 3);
    // Nothing left to apply: the next reload compares with what was applied.
    CHECK(contains(d.ctl({"reload"}).out, "no changes\n"));
  }
  SUBCASE("to a port in use") {
    const int taken = free_port();
    LiveDaemon other(two_children(taken));
    d.box.write("otpd.yaml", two_children(taken));
    const auto reload = d.ctl({"reload"});
    CHECK_MESSAGE(
        contains(reload.err, "warning: http: cannot listen on 127.0.0.1:" + std::to_string(taken)),
        reload.err);
    CHECK(contains(reload.err, "the http section stays as it was"));
    CHECK(get(old_http, "/healthz").status == 200);
    // Still to be applied, and tried again by the next reload.
    CHECK(contains(d.ctl({"reload", "--dry-run"}).out, "~ http: changed; a reload applies it"));
  }
  SUBCASE("to none") {
    d.box.write("otpd.yaml",
                "tree:\n  children:\n    - name: a\n      command: [@CHILD@, --name, a, --print, "
                "3]\n    - name: b\n      command: [@CHILD@, --name, b]\n");
    const auto reload = d.ctl({"reload"});
    CHECK_MESSAGE(contains(reload.out, "~ http: no longer listening on http://127.0.0.1:"),
                  reload.out << reload.err);
    CHECK(connect_to(old_http, std::chrono::milliseconds(1000)) < 0);
  }
}

TEST_CASE("A reload reads the admin token file again, and takes new host names") {
  const int port = free_port();
  it::Sandbox secrets;
  const std::string file = write_token(secrets, "first-token-0123456789abcdef", 0600);
  LiveDaemon d(two_children(port, ", admin_token_file: " + file));
  const Endpoint http{port, {}};
  const auto login = [&](const std::string& token) {
    return request(http, "POST", "/api/login", {"Authorization: Bearer " + token}).status;
  };
  CHECK(login("first-token-0123456789abcdef") == 200);
  write_token(secrets, "second-token-0123456789abcdef", 0600);
  const auto reload = d.ctl({"reload"});
  CHECK_MESSAGE(contains(reload.out, "~ http: admin token read again"), reload.out << reload.err);
  CHECK(login("first-token-0123456789abcdef") == 401);
  CHECK(login("second-token-0123456789abcdef") == 200);

  // A token file that became unreadable keeps the token and says why.
  write_token(secrets, "second-token-0123456789abcdef", 0644);
  CHECK(contains(d.ctl({"reload"}).err, "may be read by anyone"));
  CHECK(login("second-token-0123456789abcdef") == 200);
  write_token(secrets, "second-token-0123456789abcdef", 0600);

  CHECK(get(http, "/api/info", {"Host: otpd.example.com"}).status == 421);
  d.box.write("otpd.yaml", two_children(port, ", admin_token_file: " + file +
                                                  ", allowed_hosts: [otpd.example.com]"));
  CHECK(contains(d.ctl({"reload"}).out, "~ http: allowed_hosts applied on"));
  CHECK(get(http, "/api/info", {"Host: otpd.example.com"}).status == 200);
}

TEST_CASE(
    "otpctl status tells when a child exited, when its restart is due, and its workers' state, "
    "a cron job's next run included") {
  const int never = free_port();
  LiveDaemon d(
      "tree:\n"
      "  children:\n"
      "    - name: svc\n"
      "      command: [@CHILD@, --name, svc]\n"
      "      backoff: {initial: 30s, max: 30s}\n"
      "    - name: probe\n"
      "      worker: {kind: health_check, tcp: '127.0.0.1:" +
      std::to_string(never) +
      "', interval: 100ms, failures: 100}\n"
      "    - name: job\n"
      "      worker: {kind: cron, every: 1s, command: [true], run_at_start: true}\n");
  ::kill(d.box.pid("svc"), SIGKILL);
  REQUIRE(d.otpd.wait_event("svc", "restarting"));
  REQUIRE(d.otpd.wait_event("probe", "health_failed"));
  REQUIRE(d.otpd.wait_event("job", "run_succeeded"));
  const auto status = d.ctl({"status"});
  REQUIRE(status.code == 3);  // as systemctl status: svc does not run
  CHECK_MESSAGE(contains(status.out, "restart at "), status.out);
  CHECK(contains(status.out, "(in 2"));  // 29.x s
  CHECK(contains(status.out, "last exit at "));
  CHECK(contains(status.out, "health: failing since "));
  CHECK(contains(status.out, "cron: last run succeeded at "));
  CHECK(contains(status.out, "next run at "));
  const auto asked_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  const auto json = nlohmann::json::parse(d.ctl({"status", "--json"}).out, nullptr, false);
  REQUIRE(json.is_object());
  CHECK(json["children"][1]["health"].get<std::string>().rfind("failing since", 0) == 0);
  CHECK(json["children"][2]["cron"].get<std::string>().rfind("last run succeeded at", 0) == 0);
  // every: 1s, counted from the job's start: the next run is at most a
  // second after the moment of asking (and not long before it, a run
  // being due then).
  const auto next_run = json["children"][2]["next_run_at_ms"];
  REQUIRE(next_run.is_number_integer());
  CHECK(next_run.get<std::int64_t>() <= asked_ms + 1000 + 50);
  CHECK(next_run.get<std::int64_t>() >= asked_ms - 1000);
}
