// A real Prometheus (Debian's package) scrapes a real otpd: the series come
// back through Prometheus's own HTTP API, a restart counter moves after a
// kill, and promtool finds nothing wrong with the exposition.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
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
using Clock = std::chrono::steady_clock;

constexpr const char* kPrometheus = "/usr/bin/prometheus";
constexpr const char* kPromtool = "/usr/bin/promtool";

// A program run to its end within `timeout`: exit code (or -1) and output.
struct Ran {
  int code = -1;
  std::string out;
};

std::string drain(int fd) {
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
    text.append(buffer, static_cast<std::size_t>(n));
  return text;
}

Ran run(std::vector<std::string> argv, const std::string& input, std::chrono::seconds timeout) {
  const it::Piped p = it::start_piped(std::move(argv), it::environment_with({}), {}, input);
  Ran ran;
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  for (;;) {
    ran.out += drain(p.out_fd) + drain(p.err_fd);
    if (::waitpid(p.pid, &status, WNOHANG) == p.pid) {
      ran.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      break;
    }
    if (Clock::now() > deadline) {
      ::kill(p.pid, SIGKILL);
      ::waitpid(p.pid, &status, 0);
      ran.out += "\n(killed: it outlasted its time)";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ran.out += drain(p.out_fd) + drain(p.err_fd);
  ::close(p.out_fd);
  ::close(p.err_fd);
  return ran;
}

// Prometheus on a free port, scraping otpd every 200 ms; ended by pid.
class Prometheus {
 public:
  Prometheus(const it::Sandbox& box, int otpd_port) : port_(free_port()) {
    const std::string config = box.path("prometheus.yml");
    std::ofstream(config) << "global:\n"
                             "  scrape_interval: 200ms\n"
                             "  scrape_timeout: 200ms\n"
                             "scrape_configs:\n"
                             "  - job_name: otpd\n"
                             "    static_configs:\n"
                             "      - targets: ['127.0.0.1:"
                          << otpd_port << "']\n";
    const it::Piped p = it::start_piped(
        {kPrometheus, "--config.file=" + config, "--storage.tsdb.path=" + box.path("tsdb"),
         "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn"},
        it::environment_with({}), box.dir());
    pid_ = p.pid;
    out_fd_ = p.out_fd;
    err_fd_ = p.err_fd;
  }
  ~Prometheus() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::close(out_fd_);
    ::close(err_fd_);
  }
  Prometheus(const Prometheus&) = delete;
  Prometheus& operator=(const Prometheus&) = delete;

  Endpoint endpoint() const { return {port_, {}}; }
  std::string log() { return drain(err_fd_); }

  bool wait_ready(std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (get(endpoint(), "/-/ready").status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  // The value of the one series `query` selects, read back from Prometheus
  // until `wanted` holds or `timeout` passes; empty when it never had one.
  std::string value_of(const std::string& query,
                       const std::function<bool(const std::string&)>& wanted,
                       std::chrono::seconds timeout) {
    std::string value;
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      std::string encoded;
      for (unsigned char c : query) {
        char hex[4];
        std::snprintf(hex, sizeof hex, "%%%02X", c);
        encoded += std::isalnum(c) || c == '_' ? std::string(1, static_cast<char>(c)) : hex;
      }
      const Reply reply = get(endpoint(), "/api/v1/query?query=" + encoded);
      const auto json = nlohmann::json::parse(reply.body, nullptr, false);
      if (json.is_object() && json["status"] == "success" && json["data"]["result"].size() == 1) {
        value = json["data"]["result"][0]["value"][1].get<std::string>();
        if (wanted(value)) return value;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return value;
  }

 private:
  int port_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
};

}  // namespace

TEST_CASE("Prometheus scrapes otpd and sees a restart counter move after a kill") {
  REQUIRE_MESSAGE(
      ::access(kPrometheus, X_OK) == 0,
      "Debian's prometheus package is needed: scripts/install-deps --tests installs it");
  const int port = free_port();
  LiveDaemon d(http_section(port) +
               "tree:\n"
               "  children:\n"
               "    - name: web\n"
               "      command: [@CHILD@, --name, web]\n"
               "    - name: jobs\n"
               "      strategy: one_for_all\n"
               "      children:\n"
               "        - name: worker\n"
               "          command: [@CHILD@, --name, worker]\n");
  Prometheus prometheus(d.box, port);
  REQUIRE_MESSAGE(prometheus.wait_ready(std::chrono::seconds(60)), prometheus.log());

  const auto is = [](const char* expected) {
    return [expected](const std::string& v) { return v == expected; };
  };
  CHECK(prometheus.value_of("up{job=\"otpd\"}", is("1"), std::chrono::seconds(30)) == "1");
  CHECK(prometheus.value_of("otpd_child_up{path=\"web\"}", is("1"), std::chrono::seconds(10)) ==
        "1");
  CHECK(prometheus.value_of("otpd_child_restarts_total{path=\"jobs/worker\",supervisor=\"jobs\"}",
                            is("0"), std::chrono::seconds(10)) == "0");
  CHECK(prometheus.value_of("otpd_child_restarts_total{path=\"web\"}", is("0"),
                            std::chrono::seconds(10)) == "0");

  ::kill(d.box.pid("web"), SIGKILL);
  REQUIRE(d.otpd.wait_event("web", "started", 2));
  CHECK(prometheus.value_of("otpd_child_restarts_total{path=\"web\"}", is("1"),
                            std::chrono::seconds(20)) == "1");
  CHECK(prometheus.value_of("otpd_child_last_exit_signal{path=\"web\"}", is("9"),
                            std::chrono::seconds(10)) == "9");
  CHECK(prometheus.value_of("otpd_events_total{kind=\"exited\"}", is("1"),
                            std::chrono::seconds(10)) == "1");
  CHECK(prometheus.value_of("otpd_supervisor_intensity_used{supervisor=\"/\"}", is("1"),
                            std::chrono::seconds(10)) == "1");
}

TEST_CASE("promtool check metrics passes on otpd's exposition") {
  REQUIRE_MESSAGE(
      ::access(kPromtool, X_OK) == 0,
      "Debian's prometheus package is needed: scripts/install-deps --tests installs it");
  const int port = free_port();
  LiveDaemon d(http_section(port) +
               "tree:\n"
               "  children:\n"
               "    - name: a\n"
               "      command: [@CHILD@, --name, a]\n"
               "      backoff: {initial: 5s}\n"
               "    - name: pool\n"
               "      worker: {kind: dynamic_supervisor}\n"
               "    - name: kv\n"
               "      worker: {kind: agent, value: {}}\n");
  // A child that exited with a signal and waits out a backoff, so that every
  // family has samples.
  ::kill(d.box.pid("a"), SIGKILL);
  REQUIRE(d.otpd.wait_event("a", "restarting"));
  const Reply metrics = get(Endpoint{port, {}}, "/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(metrics.body.find("otpd_child_next_restart_time_seconds{path=\"a\"") != std::string::npos);
  const std::string file = d.box.path("metrics.txt");
  std::ofstream(file) << metrics.body;
  const Ran check = run({kPromtool, "check", "metrics"}, file, std::chrono::seconds(30));
  CHECK_MESSAGE(check.code == 0, check.out << "\n" << metrics.body);
}
