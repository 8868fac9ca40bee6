// `worker:` children: the built-in kinds, their settings and their errors.
#include <doctest/doctest.h>

#include <string>

#include "config/diff.hpp"
#include "config/loader.hpp"

using namespace otpd::config;
using namespace std::chrono_literals;

namespace {

// A tree with one child named `w` whose `worker:` mapping is `worker`, and
// `extra` further keys of the child.
Config load_worker(const std::string& worker, const std::string& extra = "") {
  return load_string("tree:\n  children:\n    - name: w\n      worker: " + worker + "\n" + extra,
                     "t.yaml", "/srv/app");
}

WorkerSpec worker_of(const std::string& worker) {
  const Config config = load_worker(worker);
  REQUIRE(config.tree.children.size() == 1);
  REQUIRE(config.tree.children.front().is_worker());
  return config.tree.children.front().worker();
}

std::string error_of(const std::string& worker, const std::string& extra = "") {
  try {
    load_worker(worker, extra);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "(loaded without error)";
}

HealthCheckSettings check_of(const std::string& settings) {
  const WorkerSpec spec = worker_of("{kind: health_check, " + settings + "}");
  REQUIRE(spec.kind() == WorkerKind::health_check);
  return std::get<HealthCheckSettings>(spec.settings);
}

}  // namespace

TEST_SUITE("config workers") {
  TEST_CASE("an agent's value becomes JSON with YAML's types") {
    const WorkerSpec spec = worker_of(
        "{kind: agent, value: {limit: 10, ratio: 0.5, on: true, off: false, none: null, "
        "name: web, quoted: '10', list: [1, two]}}");
    REQUIRE(spec.kind() == WorkerKind::agent);
    CHECK(std::get<AgentSettings>(spec.settings).value ==
          R"({"limit":10,"list":[1,"two"],"name":"web","none":null,"off":false,"on":true,)"
          R"("quoted":"10","ratio":0.5})");
  }

  TEST_CASE("an agent without a value starts as null") {
    CHECK(std::get<AgentSettings>(worker_of("{kind: agent}").settings).value == "null");
  }

  TEST_CASE("a worker takes restart, shutdown and backoff like a process; default shutdown 5s") {
    const Config config =
        load_worker("{kind: agent}", "      restart: transient\n      backoff: {initial: 1s}\n");
    const ChildSpec& child = config.tree.children.front();
    CHECK(child.restart == RestartType::transient);
    CHECK(child.shutdown == Shutdown::after(5s));
    REQUIRE(child.backoff.has_value());
    CHECK(child.backoff->initial == Duration{1s});
  }

  TEST_CASE("health_check over tcp, with its defaults") {
    const HealthCheckSettings check = check_of("tcp: 8080");
    CHECK(check.probe == HealthCheckSettings::Probe::tcp);
    CHECK(check.host == "127.0.0.1");
    CHECK(check.port == 8080);
    CHECK(check.interval == Duration{10s});
    CHECK(check.timeout == Duration{2s});
    CHECK(check.failures == 3);
    CHECK(check.initial_delay == Duration{0});
  }

  TEST_CASE("health_check over http: host, port and path from the URL") {
    HealthCheckSettings check =
        check_of("http: 'http://127.0.0.1:9000/healthz?full=1', interval: 1s, failures: 2");
    CHECK(check.probe == HealthCheckSettings::Probe::http);
    CHECK(check.host == "127.0.0.1");
    CHECK(check.port == 9000);
    CHECK(check.target == "/healthz?full=1");
    CHECK(check.interval == Duration{1s});
    CHECK(check.failures == 2);
    check = check_of("http: 'http://[::1]/'");
    CHECK(check.host == "::1");
    CHECK(check.port == 80);
    check = check_of("http: 'http://localhost:81'");
    CHECK(check.host == "127.0.0.1");
    CHECK(check.target == "/");
  }

  TEST_CASE("health_check with a command runs it in the config's directory") {
    HealthCheckSettings check = check_of("exec: [pg_isready, -q]");
    CHECK(check.probe == HealthCheckSettings::Probe::exec);
    CHECK(check.command.argv == std::vector<std::string>{"pg_isready", "-q"});
    CHECK(check.command.cwd == "/srv/app");
    CHECK(check.command.output == Output::log);
    check = check_of("exec: 'curl -fs localhost'");
    CHECK(check.command.via_shell);
  }

  TEST_CASE("errors name the place and suggest the spelling") {
    CHECK(
        error_of("{kind: agnet}") ==
        "t.yaml:4:22: worker.kind: expected one of agent, cron, dynamic_supervisor, file_watch or "
        "health_check, found "
        "'agnet' (did "
        "you "
        "mean 'agent'?)");
    CHECK(error_of("{kind: agent, valeu: 1}") ==
          "t.yaml:4:29: unknown key 'valeu' (did you mean 'value'?)");
    CHECK(error_of("{value: 1}").find("needs a 'kind'") != std::string::npos);
    CHECK(error_of("agent").find("expected a mapping with a 'kind'") != std::string::npos);
    CHECK(error_of("{kind: health_check}").find("needs what to probe: tcp, http or exec") !=
          std::string::npos);
    CHECK(error_of("{kind: health_check, tcp: 80, exec: [x]}")
              .find("cannot be combined with 'tcp'") != std::string::npos);
    CHECK(error_of("{kind: health_check, http: 'https://127.0.0.1/'}")
              .find("https is not supported") != std::string::npos);
    CHECK(error_of("{kind: health_check, http: 'http://example.com/'}")
              .find("names are not resolved") != std::string::npos);
    CHECK(error_of("{kind: health_check, tcp: 80, failures: 0}").find("failures") !=
          std::string::npos);
    CHECK(error_of("{kind: health_check, tcp: 80, interval: 0s}").find("interval") !=
          std::string::npos);
  }

  TEST_CASE("a worker is one kind of child: no command beside it, no process keys") {
    CHECK(error_of("{kind: agent}", "      command: [x]\n")
              .find("'command' cannot be combined with 'worker'") != std::string::npos);
    CHECK(error_of("{kind: agent}", "      env: {A: b}\n")
              .find("'env' applies only to processes, not to a worker") != std::string::npos);
  }

  TEST_CASE("dynamic_supervisor under worker makes a supervisor; a misspelt kind suggests it") {
    const Config config = load_worker("{kind: dynamic_supervisor, max_children: 2}");
    const ChildSpec& child = config.tree.children.back();
    REQUIRE(child.is_supervisor());
    CHECK(child.supervisor().dynamic);
    CHECK(error_of("{kind: dynamic_supervsor}").find("did you mean 'dynamic_supervisor'") !=
          std::string::npos);
  }

  TEST_CASE(
      "reload: a worker whose settings change is restarted; a process becoming one is replaced") {
    const Config before = load_worker("{kind: agent, value: 1}");
    const Config same = load_worker("{kind: agent, value: 1}");
    const Config after = load_worker("{kind: agent, value: 2}");
    CHECK(diff(before, same).empty());
    const TreeDiff changed = diff(before, after);
    CHECK(changed.of(Change::changed) == std::vector<std::string>{"w"});
    CHECK(changed.paths.back().what == std::vector<std::string>{"worker"});
    const Config process =
        load_string("tree:\n  children:\n    - name: w\n      command: [x]\n", "t.yaml", "/srv");
    const TreeDiff kind = diff(process, after);
    CHECK(kind.of(Change::removed) == std::vector<std::string>{"w"});
    CHECK(kind.of(Change::added) == std::vector<std::string>{"w"});
  }
}

TEST_SUITE("workers section") {
  const std::string kTree = "tree:\n  children: []\n";

  Config load_pool(const std::string& yaml) {
    return load_string(yaml, "t.yaml", "/srv/app");
  }

  std::string pool_error(const std::string& yaml) {
    try {
      load_pool(yaml);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  }

  TEST_CASE("defaults without a workers section") {
    const Config config = load_pool(kTree);
    CHECK(config.workers.threads == 2);
    CHECK(config.workers.slow_handler == std::chrono::milliseconds(100));
  }

  TEST_CASE("threads and slow_handler, which 0 turns off") {
    Config config = load_pool(kTree + "workers:\n  threads: 4\n  slow_handler: 2s\n");
    CHECK(config.workers.threads == 4);
    CHECK(config.workers.slow_handler == std::chrono::seconds(2));
    config = load_pool(kTree + "workers:\n  slow_handler: 0s\n");
    CHECK(config.workers.slow_handler == Duration::zero());
  }

  TEST_CASE("errors point at the value and suggest") {
    CHECK(
        pool_error(kTree + "workers:\n  threads: 0\n").starts_with("t.yaml:4:12: workers.threads"));
    CHECK(pool_error(kTree + "workers:\n  threads: 65\n")
              .starts_with("t.yaml:4:12: workers.threads"));
    CHECK(pool_error(kTree + "workers:\n  slow_handler: -1s\n")
              .starts_with("t.yaml:4:17: workers.slow_handler: expected a duration"));
    CHECK(pool_error(kTree + "workers:\n  slow_handler: soon\n").starts_with("t.yaml:4:17: "));
    CHECK(pool_error(kTree + "workers:\n  thread: 3\n").find("did you mean 'threads'") !=
          std::string::npos);
    CHECK(pool_error(kTree + "workers: 3\n").starts_with("t.yaml:3:"));
  }
}
