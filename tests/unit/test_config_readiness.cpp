// ready, start_timeout and watchdog on a process child.
#include <doctest/doctest.h>

#include <string>

#include "config/loader.hpp"

using namespace otpd::config;
using namespace std::chrono_literals;

namespace {

ProcessSpec process_of(const std::string& keys) {
  const Config config = load_string(
      "tree:\n  children:\n    - name: a\n      command: [x]\n" + keys, "t.yaml", "/srv/app");
  REQUIRE(config.tree.children.size() == 1);
  return config.tree.children.front().process();
}

std::string error_of(const std::string& keys) {
  try {
    process_of(keys);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "(loaded without error)";
}

}  // namespace

TEST_SUITE("config readiness") {
  TEST_CASE("no ready key: ready at exec, start timeout 60s, no watchdog") {
    const ProcessSpec p = process_of("");
    CHECK(p.ready->kind == Readiness::Kind::none);
    CHECK(p.start_timeout == Duration{60s});
    CHECK_FALSE(p.watchdog.has_value());
  }

  TEST_CASE("ready: notify, with a watchdog and a start timeout") {
    const ProcessSpec p =
        process_of("      ready: notify\n      watchdog: 10s\n      start_timeout: 30s\n");
    CHECK(p.ready->kind == Readiness::Kind::notify);
    CHECK(p.watchdog == Duration{10s});
    CHECK(p.start_timeout == Duration{30s});
  }

  TEST_CASE("start_timeout: infinity waits forever") {
    const ProcessSpec p = process_of("      ready: notify\n      start_timeout: infinity\n");
    CHECK_FALSE(p.start_timeout.has_value());
  }

  TEST_CASE("ready: fd") {
    const ProcessSpec p = process_of("      ready: {fd: 3}\n");
    CHECK(p.ready->kind == Readiness::Kind::fd);
    CHECK(p.ready->fd == 3);
  }

  TEST_CASE("ready: tcp, a port alone means the IPv4 loopback") {
    const ProcessSpec p = process_of("      ready: {tcp: 8080, interval: 50ms}\n");
    CHECK(p.ready->kind == Readiness::Kind::tcp);
    CHECK(p.ready->host == "127.0.0.1");
    CHECK(p.ready->port == 8080);
    CHECK(p.ready->interval == 50ms);
  }

  TEST_CASE("ready: tcp with an address") {
    const ProcessSpec v4 = process_of("      ready: {tcp: \"10.0.0.2:5432\"}\n");
    CHECK(v4.ready->host == "10.0.0.2");
    CHECK(v4.ready->port == 5432);
    CHECK(v4.ready->interval == 100ms);
    const ProcessSpec v6 = process_of("      ready: {tcp: \"[::1]:80\"}\n");
    CHECK(v6.ready->host == "::1");
    CHECK(v6.ready->port == 80);
  }

  TEST_CASE("ready: exec, a command or a shell line") {
    const ProcessSpec list = process_of("      ready: {exec: [pg_isready, -q]}\n");
    CHECK(list.ready->kind == Readiness::Kind::exec);
    CHECK(list.ready->argv == std::vector<std::string>{"pg_isready", "-q"});
    CHECK_FALSE(list.ready->via_shell);
    const ProcessSpec line = process_of("      ready: {exec: \"test -e /run/x\", interval: 1s}\n");
    CHECK(line.ready->argv == std::vector<std::string>{"/bin/sh", "-c", "test -e /run/x"});
    CHECK(line.ready->via_shell);
    CHECK(line.ready->interval == 1s);
  }

  TEST_CASE("ready: the probes' backoff, by default for exec and not for tcp") {
    CHECK(process_of("      ready: {exec: [pg_isready]}\n").ready->max_interval == 2s);
    CHECK(process_of("      ready: {tcp: 8080}\n").ready->max_interval == 0ms);
    const ProcessSpec both =
        process_of("      ready: {exec: [pg_isready], interval: 250ms, max_interval: 5s}\n");
    CHECK(both.ready->interval == 250ms);
    CHECK(both.ready->max_interval == 5s);
    CHECK(process_of("      ready: {tcp: 8080, max_interval: 1s}\n").ready->max_interval == 1s);
    CHECK(process_of("      ready: {exec: [a], max_interval: 3s}\n") !=
          process_of("      ready: {exec: [a], max_interval: 4s}\n"));
    CHECK(error_of("      ready: {exec: [a], interval: 2s, max_interval: 1s}\n") ==
          "t.yaml:5:54: ready: max_interval (1s) is shorter than interval (2s)");
    CHECK(error_of("      ready: {delay: 1s, max_interval: 1s}\n") ==
          "t.yaml:5:26: ready: 'max_interval' applies only to tcp and exec, not to delay");
  }

  TEST_CASE("ready: delay") {
    const ProcessSpec p = process_of("      ready: {delay: 2s}\n");
    CHECK(p.ready->kind == Readiness::Kind::delay);
    CHECK(p.ready->delay == 2s);
  }

  TEST_CASE("ready takes part in comparing specs") {
    CHECK(process_of("      ready: {fd: 3}\n") != process_of("      ready: {fd: 4}\n"));
    CHECK(process_of("      ready: notify\n") !=
          process_of("      ready: notify\n      watchdog: 1s\n"));
    CHECK(process_of("      ready: notify\n") !=
          process_of("      ready: notify\n      start_timeout: 1s\n"));
  }

  TEST_CASE("errors") {
    CHECK(error_of("      ready: notfy\n") ==
          "t.yaml:5:14: ready: expected notify, or a mapping with one of fd, tcp, exec or "
          "delay (such as {fd: 3}, {tcp: 8080}, {exec: [pg_isready]} or {delay: 2s}), found "
          "'notfy' (did you mean 'notify'?)");
    CHECK(error_of("      ready: {fd: 2}\n") ==
          "t.yaml:5:19: ready.fd: must be at least 3, found '2'");
    CHECK(error_of("      ready: {fd: 3, tcp: 80}\n") ==
          "t.yaml:5:22: ready: 'tcp' cannot be combined with 'fd': a child is ready in one way");
    CHECK(error_of("      ready: {fd: 3, interval: 1s}\n") ==
          "t.yaml:5:22: ready: 'interval' applies only to tcp and exec, not to fd");
    CHECK(error_of("      ready: {tpc: 80}\n").find("did you mean 'tcp'") != std::string::npos);
    CHECK(error_of("      ready: {interval: 1s}\n") ==
          "t.yaml:5:14: ready: expected one of fd, tcp, exec or delay");
    CHECK(error_of("      ready: {tcp: 70000}\n").find("a port is a number from 1 to 65535") !=
          std::string::npos);
    CHECK(error_of("      ready: {tcp: \"localhost:80\"}\n")
              .find("'localhost' is not a numeric address") != std::string::npos);
    CHECK(error_of("      ready: {tcp: \"::1:80\"}\n").find("in brackets") != std::string::npos);
    CHECK(error_of("      ready: {exec: []}\n") ==
          "t.yaml:5:21: ready.exec: must name at least the program to run");
    CHECK(error_of("      ready: {delay: 0s}\n").find("must be longer than 0s") !=
          std::string::npos);
    CHECK(error_of("      watchdog: 10s\n") ==
          "t.yaml:5:7: watchdog: needs 'ready: notify' (the child pings with WATCHDOG=1 on "
          "NOTIFY_SOCKET)");
    CHECK(error_of("      ready: {fd: 3}\n      watchdog: 10s\n").find("needs 'ready: notify'") !=
          std::string::npos);
    CHECK(error_of("      start_timeout: 5s\n") ==
          "t.yaml:5:7: start_timeout: applies only to a child with 'ready' (without it a child "
          "is ready once it has started)");
    CHECK(error_of("      ready: notify\n      start_timeout: forever\n") ==
          "t.yaml:6:22: start_timeout: expected infinity or a duration such as 30s, found "
          "'forever'");
    CHECK(error_of("      ready: notify\n      start_timeout: 0s\n").find("longer than 0s") !=
          std::string::npos);
  }
}
