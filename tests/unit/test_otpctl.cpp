// otpctl's pure parts: the command line, durations, the socket path, the
// status tree and event lines.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <variant>
#include <vector>

#include "cli/arguments.hpp"
#include "cli/duration_text.hpp"
#include "cli/event_view.hpp"
#include "cli/help.hpp"
#include "cli/json.hpp"
#include "cli/socket_path.hpp"
#include "cli/style.hpp"
#include "cli/tree_view.hpp"

using namespace otpd::ctl;
using Args = std::vector<std::string>;

namespace {

Invocation parsed(const Args& args) {
  auto result = parse_arguments(args);
  if (auto* error = std::get_if<UsageError>(&result)) FAIL(error->message);
  return std::get<Invocation>(result);
}

std::string usage_error(const Args& args) {
  auto result = parse_arguments(args);
  auto* error = std::get_if<UsageError>(&result);
  return error != nullptr ? error->message : "(accepted)";
}

Getenv environment(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const char* name) -> const char* {
    const auto found = values.find(name);
    return found == values.end() ? nullptr : found->second.c_str();
  };
}

std::string duration_error(std::string_view text) {
  std::string error;
  const auto parsed = parse_duration(text, error);
  return parsed ? "(accepted)" : error;
}

const Json kTree = Json::parse(R"json({
  "path": "/", "name": "/", "kind": "supervisor", "state": "running",
  "restart": "permanent", "held": false, "restarts": 0, "last_exit": null,
  "strategy": "one_for_one", "intensity": 3, "period_ms": 5000, "intensity_used": 1,
  "children": [
    {"path": "db", "name": "db", "kind": "process", "state": "running",
     "restart": "permanent", "held": false, "command": ["redis-server"],
     "pid": 4242, "uptime_ms": 252000, "restarts": 2,
     "last_exit": {"exit_status": 1, "reason": "exited with status 1"}},
    {"path": "app", "name": "app", "kind": "supervisor", "state": "running",
     "restart": "permanent", "held": false, "restarts": 0, "last_exit": null,
     "strategy": "rest_for_one", "intensity": 5, "period_ms": 10000, "intensity_used": 0,
     "children": [
       {"path": "app/api", "name": "api", "kind": "process", "state": "backoff",
        "restart": "permanent", "held": false, "command": ["./api"],
        "pid": 0, "restarts": 7,
        "last_exit": {"signal": "SIGSEGV", "core_dumped": true,
                      "reason": "killed by SIGSEGV (core dumped)"}},
       {"path": "app/worker", "name": "worker", "kind": "process", "state": "stopped",
        "restart": "transient", "held": true, "command": ["./worker"],
        "pid": 0, "restarts": 0, "last_exit": {"signal": "SIGTERM"}}
     ]},
    {"path": "cron", "name": "cron", "kind": "process", "state": "running",
     "restart": "permanent", "held": false, "command": ["cron"],
     "pid": 77, "uptime_ms": 7384000, "restarts": 0, "last_exit": null}
  ]
})json");

}  // namespace

// --- arguments ----------------------------------------------------------

TEST_CASE("otpctl arguments: a command with its operands and options") {
  const Invocation status = parsed({"status", "app/api", "--json"});
  CHECK(status.command == Command::status);
  CHECK(status.paths == Args{"app/api"});
  CHECK(status.json);
  CHECK(status.timeout == default_timeout);
  CHECK_FALSE(status.socket);

  const Invocation stop = parsed({"stop", "a", "b/c", "d"});
  CHECK(stop.command == Command::stop);
  CHECK(stop.paths == Args{"a", "b/c", "d"});

  const Invocation signal = parsed({"signal", "HUP", "app/api", "db"});
  CHECK(signal.signal == "HUP");
  CHECK(signal.paths == Args{"app/api", "db"});
}

TEST_CASE("otpctl arguments: reload takes --dry-run and --json, nothing else") {
  const Invocation reload = parsed({"reload", "--dry-run", "--json"});
  CHECK(reload.command == Command::reload);
  CHECK(reload.dry_run);
  CHECK(reload.json);
  CHECK(!parsed({"reload"}).dry_run);
  CHECK(usage_error({"reload", "app"}) == "unexpected argument 'app'");
  CHECK(usage_error({"status", "--dry-run"}) == "option --dry-run does not apply to 'status'");
}

TEST_CASE("otpctl arguments: start-child takes SUP and SPEC, '-', or --file") {
  const Invocation inline_spec = parsed({"start-child", "jobs", "{name: a}", "--json"});
  CHECK(inline_spec.command == Command::start_child);
  CHECK(inline_spec.paths == Args{"jobs"});
  CHECK(inline_spec.spec == "{name: a}");
  CHECK(inline_spec.json);
  CHECK(parsed({"start-child", "jobs", "-"}).spec == "-");
  const Invocation from_file = parsed({"start-child", "--file", "job.yaml", "jobs"});
  CHECK(from_file.spec_file == "job.yaml");
  CHECK(from_file.spec.empty());
  CHECK(usage_error({"start-child"}) ==
        "which dynamic supervisor? e.g. 'otpctl start-child jobs SPEC'");
  CHECK(usage_error({"start-child", "jobs"}) ==
        "which child? give its spec as YAML or JSON, '-' to read it from stdin, or --file FILE");
  CHECK(usage_error({"start-child", "jobs", "--file", "f", "{name: a}"}) ==
        "give the spec either as an argument or with --file, not both");
  CHECK(usage_error({"status", "--file", "f"}) == "option --file does not apply to 'status'");
}

TEST_CASE("otpctl arguments: terminate-child takes SUP and NAME") {
  const Invocation terminate = parsed({"terminate-child", "jobs", "job1"});
  CHECK(terminate.command == Command::terminate_child);
  CHECK(terminate.paths == Args{"jobs"});
  CHECK(terminate.child_name == "job1");
  CHECK(usage_error({"terminate-child", "jobs"}) == "which child? give its NAME");
  CHECK(usage_error({"terminate-child", "jobs", "a", "b"}) == "unexpected argument 'b'");
}

TEST_CASE("otpctl arguments: global options before or after the command, both spellings") {
  const Invocation a = parsed({"--socket", "/tmp/s.sock", "--timeout", "2s", "ping"});
  CHECK(a.socket == "/tmp/s.sock");
  CHECK(a.timeout == Ms(2000));
  const Invocation b = parsed({"ping", "--socket=/tmp/s.sock", "--timeout=1m30s"});
  CHECK(b.socket == "/tmp/s.sock");
  CHECK(b.timeout == Ms(90'000));
  CHECK(parsed({"status", "--no-color"}).no_color);
}

TEST_CASE("otpctl arguments: events options, short and long, bundled") {
  const Invocation a = parsed({"events", "-f", "-n", "5", "--json"});
  CHECK(a.follow);
  CHECK(a.json);
  CHECK(a.backlog == 5);
  const Invocation b = parsed({"events", "-fn0"});
  CHECK(b.follow);
  CHECK(b.backlog == 0);
  CHECK(parsed({"events", "--lines=1000"}).backlog == 1000);
  CHECK_FALSE(parsed({"events"}).backlog);
}

TEST_CASE("otpctl arguments: -- lets a path start with a dash") {
  CHECK(parsed({"stop", "--", "-odd"}).paths == Args{"-odd"});
}

TEST_CASE("otpctl arguments: help and version win over everything else") {
  const Invocation top = parsed({"--help"});
  CHECK(top.help);
  CHECK(top.command == Command::help);
  const Invocation cmd = parsed({"stop", "--help"});
  CHECK(cmd.help);
  CHECK(cmd.command == Command::stop);
  CHECK(parsed({"stop", "-h"}).command == Command::stop);
  const Invocation topic = parsed({"help", "events"});
  CHECK(topic.help);
  CHECK(topic.command == Command::events);
  CHECK(parsed({"help"}).command == Command::help);
  CHECK(parsed({"help"}).help);
  CHECK(parsed({"--version"}).version);
  CHECK(parsed({"signal", "--help"}).help);  // operands are not required for help
}

TEST_CASE("otpctl arguments: usage errors say what is wrong") {
  CHECK(usage_error({}) == "no command given");
  CHECK(usage_error({"stauts"}) == "unknown command 'stauts' (did you mean 'status'?)");
  CHECK(usage_error({"frobnicate"}) == "unknown command 'frobnicate'");
  CHECK(usage_error({"status", "--jsn"}) == "unknown option '--jsn' (did you mean '--json'?)");
  CHECK(usage_error({"status", "-x"}) == "unknown option '-x'");
  CHECK(usage_error({"status", "a", "b"}) == "at most one PATH, got 'b' too");
  CHECK(usage_error({"stop"}) == "which child? give at least one PATH");
  CHECK(usage_error({"signal"}) == "which signal? e.g. 'otpctl signal HUP app/api'");
  CHECK(usage_error({"signal", "HUP"}) == "which child? give at least one PATH");
  CHECK(usage_error({"ping", "extra"}) == "unexpected argument 'extra'");
  CHECK(usage_error({"status", "--follow"}) == "option --follow does not apply to 'status'");
  CHECK(usage_error({"ping", "--json"}) == "option --json does not apply to 'ping'");
  CHECK(usage_error({"ping", "--socket"}) == "option --socket needs a value");
  CHECK(usage_error({"ping", "--socket="}) == "option --socket needs a path");
  CHECK(usage_error({"ping", "--no-color=yes"}) == "option --no-color takes no value");
  CHECK(usage_error({"events", "-n", "x"}) == "option -n needs a number from 0 to 1000, not 'x'");
  CHECK(usage_error({"events", "-n", "1001"}) ==
        "option -n needs a number from 0 to 1000, not '1001'");
  CHECK(usage_error({"ping", "--timeout", "0s"}) == "option --timeout must be longer than 0s");
  CHECK(usage_error({"ping", "--timeout", "10"}).find("needs a unit") != std::string::npos);
  CHECK(usage_error({"help", "nope"}) == "unknown command 'nope'");
}

TEST_CASE("otpctl help: every command's help lists the exit codes and global options") {
  for (Command command :
       {Command::status, Command::start, Command::stop, Command::restart, Command::signal,
        Command::events, Command::shutdown, Command::ping, Command::version, Command::help}) {
    const std::string text = full_help(command);
    CHECK(text.find("usage: otpctl") == 0);
    CHECK(text.find("--socket PATH") != std::string::npos);
    CHECK(text.find("--timeout DURATION") != std::string::npos);
    CHECK(text.find("  3  ") != std::string::npos);
  }
  CHECK(full_help(Command::events).find("--follow") != std::string::npos);
  CHECK(full_help(Command::events).find("--lines N") != std::string::npos);
  CHECK(short_usage(Command::stop) ==
        "usage: otpctl stop PATH... [--json] [OPTIONS]\n"
        "Run 'otpctl stop --help' for its options.\n");
}

// --- durations ------------------------------------------------------------

TEST_CASE("otpctl durations: --timeout spellings") {
  std::string error;
  CHECK(parse_duration("500ms", error) == Ms(500));
  CHECK(parse_duration("10s", error) == Ms(10'000));
  CHECK(parse_duration("2m", error) == Ms(120'000));
  CHECK(parse_duration("1h", error) == Ms(3'600'000));
  CHECK(parse_duration("1m30s", error) == Ms(90'000));
  CHECK(parse_duration("1.5s", error) == Ms(1'500));
  CHECK(parse_duration("0.25s", error) == Ms(250));
  CHECK(parse_duration("0s", error) == Ms(0));
}

TEST_CASE("otpctl durations: refused spellings") {
  CHECK(duration_error("") == "a duration cannot be empty: write e.g. 10s or 500ms");
  CHECK(duration_error("10") ==
        "invalid duration '10': a number needs a unit (ms, s, m or h), e.g. 10s");
  CHECK(duration_error("s") == "invalid duration 's': write e.g. 10s, 500ms or 1m30s");
  CHECK(duration_error("5x").find("unknown or out-of-order unit 'x'") != std::string::npos);
  CHECK(duration_error("5s1m").find("out-of-order unit 'm'") != std::string::npos);
  CHECK(duration_error("0.0001s") ==
        "invalid duration '0.0001s': not a whole number of milliseconds");
  CHECK(duration_error("99999999999999999h") == "invalid duration '99999999999999999h': too long");
}

TEST_CASE("otpctl durations: uptimes at a glance") {
  CHECK(format_uptime(0) == "0s");
  CHECK(format_uptime(999) == "0s");
  CHECK(format_uptime(3'000) == "3s");
  CHECK(format_uptime(59'999) == "59s");
  CHECK(format_uptime(60'000) == "1m00s");
  CHECK(format_uptime(252'000) == "4m12s");
  CHECK(format_uptime(3'599'000) == "59m59s");
  CHECK(format_uptime(3'600'000) == "1h00m");
  CHECK(format_uptime(7'384'000) == "2h03m");
  CHECK(format_uptime(86'399'000) == "23h59m");
  CHECK(format_uptime(86'400'000) == "1d");
  CHECK(format_uptime(5 * 86'400'000LL + 3'600'000) == "5d");
  CHECK(format_uptime(-5) == "0s");
}

TEST_CASE("otpctl durations: exact delays as otpd logs them") {
  CHECK(format_exact(0) == "0s");
  CHECK(format_exact(300) == "300ms");
  CHECK(format_exact(1'000) == "1s");
  CHECK(format_exact(90'000) == "1m30s");
  CHECK(format_exact(3'600'250) == "1h250ms");
}

// --- socket path and style ---------------------------------------------------

TEST_CASE("otpctl socket path: flag, then OTPD_SOCKET, then the default for the user") {
  const auto everywhere = [](const std::string&) { return true; };
  const auto path = [&](const std::optional<std::string>& flag, const Getenv& env, uid_t uid) {
    return choose_socket(flag, env, uid, everywhere).path;
  };
  const auto env = environment({{"OTPD_SOCKET", "/e/otpd.sock"}, {"XDG_RUNTIME_DIR", "/run/u"}});
  CHECK(path(std::string("/f.sock"), env, 1000) == "/f.sock");
  CHECK(path(std::nullopt, env, 1000) == "/e/otpd.sock");
  CHECK(path(std::nullopt, env, 0) == "/e/otpd.sock");
  const auto xdg = environment({{"XDG_RUNTIME_DIR", "/run/user/1000"}, {"OTPD_SOCKET", ""}});
  CHECK(path(std::nullopt, xdg, 0) == "/run/otpd/otpd.sock");
  CHECK(path(std::nullopt, xdg, 1000) == "/run/user/1000/otpd.sock");
  CHECK(path(std::nullopt, environment({}), 1000) == "/tmp/otpd-1000/otpd.sock");
  // Only an absolute XDG_RUNTIME_DIR counts, as for otpd.
  CHECK(path(std::nullopt, environment({{"XDG_RUNTIME_DIR", "run"}}), 1000) ==
        "/tmp/otpd-1000/otpd.sock");
}

TEST_CASE("otpctl socket path: without XDG_RUNTIME_DIR, the session's otpd, then the system's") {
  using Paths = std::vector<std::string>;
  CHECK(default_socket_paths(environment({}), 1000) ==
        Paths{"/tmp/otpd-1000/otpd.sock", "/run/user/1000/otpd.sock", "/run/otpd/otpd.sock"});
  CHECK(default_socket_paths(environment({{"XDG_RUNTIME_DIR", "/run/user/1000"}}), 1000) ==
        Paths{"/run/user/1000/otpd.sock", "/run/otpd/otpd.sock"});
  CHECK(default_socket_paths(environment({}), 0) == Paths{"/run/otpd/otpd.sock"});

  // `sudo -u` without XDG_RUNTIME_DIR finds the otpd of the user's session.
  const auto at = [](std::string there) {
    return [there](const std::string& path) { return path == there; };
  };
  CHECK(choose_socket(std::nullopt, environment({}), 1000, at("/run/user/1000/otpd.sock")).path ==
        "/run/user/1000/otpd.sock");
  // A user without an otpd of their own reaches the system's.
  const SocketChoice system =
      choose_socket(std::nullopt, environment({}), 1000, at("/run/otpd/otpd.sock"));
  CHECK(system.path == "/run/otpd/otpd.sock");
  CHECK(system.also_looked.empty());
  // Nothing anywhere: the first, and where else otpctl looked.
  const SocketChoice none = choose_socket(std::nullopt, environment({}), 1000, at("/nowhere"));
  CHECK(none.path == "/tmp/otpd-1000/otpd.sock");
  CHECK(also_looked_note(none.also_looked) ==
        "nor at /run/user/1000/otpd.sock or /run/otpd/otpd.sock");
  CHECK(choose_socket(std::nullopt, environment({}), 0, at("/nowhere")).also_looked.empty());
}

TEST_CASE("otpctl style: colour only on a terminal and when not refused") {
  const auto plain = environment({{"LANG", "en_US.UTF-8"}});
  CHECK(choose_style(false, true, plain).colour);
  CHECK_FALSE(choose_style(false, false, plain).colour);
  CHECK_FALSE(choose_style(true, true, plain).colour);
  CHECK_FALSE(choose_style(false, true, environment({{"NO_COLOR", "1"}})).colour);
  CHECK(choose_style(false, true, environment({{"NO_COLOR", ""}})).colour);
  CHECK_FALSE(choose_style(false, true, environment({{"TERM", "dumb"}})).colour);
}

TEST_CASE("otpctl style: box-drawing glyphs only in a UTF-8 locale") {
  CHECK(locale_is_utf8(environment({{"LANG", "en_US.UTF-8"}})));
  CHECK(locale_is_utf8(environment({{"LC_CTYPE", "C.utf8"}, {"LANG", "C"}})));
  CHECK_FALSE(locale_is_utf8(environment({{"LC_ALL", "C"}, {"LANG", "en_US.UTF-8"}})));
  CHECK(locale_is_utf8(environment({{"LC_ALL", ""}, {"LANG", "de_DE.utf8"}})));
  CHECK_FALSE(locale_is_utf8(environment({})));
  CHECK_FALSE(locale_is_utf8(environment({{"LANG", "POSIX"}})));
}

// --- the status tree -----------------------------------------------------------

// clang-format off
TEST_CASE("otpctl status tree: UTF-8 glyphs, no colour") {
  CHECK(render_tree(kTree, Style{false, true}) ==
        "/             one_for_one   running                      restarts 0  intensity 1/3 per 5s\n"
        "├─ db         process       running  pid 4242  up 4m12s  restarts 2  last exit: exited with status 1\n"
        "├─ app        rest_for_one  running                      restarts 0  intensity 0/5 per 10s\n"
        "│  ├─ api     process       backoff                      restarts 7  last exit: killed by SIGSEGV (core dumped)\n"
        "│  └─ worker  process       stopped                      restarts 0  held by otpctl stop, last exit: killed by SIGTERM\n"
        "└─ cron       process       running  pid 77    up 2h03m  restarts 0\n");
}

TEST_CASE("otpctl status tree: ASCII glyphs outside a UTF-8 locale") {
  CHECK(render_tree(kTree, Style{false, false}) ==
        "/             one_for_one   running                      restarts 0  intensity 1/3 per 5s\n"
        "|- db         process       running  pid 4242  up 4m12s  restarts 2  last exit: exited with status 1\n"
        "|- app        rest_for_one  running                      restarts 0  intensity 0/5 per 10s\n"
        "|  |- api     process       backoff                      restarts 7  last exit: killed by SIGSEGV (core dumped)\n"
        "|  `- worker  process       stopped                      restarts 0  held by otpctl stop, last exit: killed by SIGTERM\n"
        "`- cron       process       running  pid 77    up 2h03m  restarts 0\n");
}

TEST_CASE("otpctl status tree: states coloured by what they mean") {
  const std::string green = "\x1b[32mrunning\x1b[0m";
  const std::string yellow = "\x1b[33mbackoff\x1b[0m";
  const std::string dim = "\x1b[2mstopped\x1b[0m";
  CHECK(render_tree(kTree, Style{true, false}) ==
        "/             one_for_one   " + green + "                      restarts 0  intensity 1/3 per 5s\n"
        "|- db         process       " + green + "  pid 4242  up 4m12s  restarts 2  last exit: exited with status 1\n"
        "|- app        rest_for_one  " + green + "                      restarts 0  intensity 0/5 per 10s\n"
        "|  |- api     process       " + yellow + "                      restarts 7  last exit: killed by SIGSEGV (core dumped)\n"
        "|  `- worker  process       " + dim + "                      restarts 0  held by otpctl stop, last exit: killed by SIGTERM\n"
        "`- cron       process       " + green + "  pid 77    up 2h03m  restarts 0\n");
  // clang-format on
  CHECK(paint("failed", tone_of_state("failed"), Style{true, true}) == "\x1b[31mfailed\x1b[0m");
  CHECK(paint("exited", tone_of_state("exited"), Style{true, true}) == "\x1b[31mexited\x1b[0m");
  CHECK(paint("starting", tone_of_state("starting"), Style{true, true}) ==
        "\x1b[33mstarting\x1b[0m");
}

TEST_CASE("otpctl status tree: a subtree is labelled with its path") {
  const Json api = kTree["children"][1]["children"][0];
  CHECK(render_tree(api, Style{false, true}) ==
        "app/api  process  backoff  restarts 7  last exit: killed by SIGSEGV (core dumped)\n");
  const Json running = kTree["children"][0];
  CHECK(render_tree(running, Style{false, true}) ==
        "db  process  running  pid 4242  up 4m12s  restarts 2  last exit: exited with status 1\n");
}

TEST_CASE("otpctl status tree: a dynamic supervisor shows as dynamic") {
  const Json jobs = Json::parse(
      R"({"path":"jobs","name":"jobs","kind":"supervisor","state":"running","restarts":0,)"
      R"("strategy":"one_for_one","intensity":3,"period_ms":5000,"intensity_used":0,)"
      R"("dynamic":true,"max_children":8,"children":[]})");
  CHECK(render_tree(jobs, Style{false, true}) ==
        "jobs  dynamic  running  restarts 0  intensity 0/3 per 5s\n");
}

TEST_CASE("otpctl status tree: a node with unexpected members still renders") {
  const auto odd =
      Json::parse(R"({"path": "x", "state": 3, "pid": "no", "children": "none", "last_exit": 5})");
  CHECK(render_tree(odd, Style{false, true}) == "x  supervisor  unknown\n");
}

// --- event lines ------------------------------------------------------------------

TEST_CASE("otpctl events: lines laid out as otpd's log") {
  CHECK(
      render_event(Json::parse(
          R"({"time": "2026-11-24T12:50:01.113Z", "path": "app/api", "event": "started", "pid": 4242})")) ==
      "2026-11-24T12:50:01.113Z started            app/api pid=4242");
  CHECK(
      render_event(Json::parse(
          R"({"time": "2026-11-24T12:50:02.000Z", "path": "app/api", "event": "restarting", "delay_ms": 1500})")) ==
      "2026-11-24T12:50:02.000Z restarting         app/api in 1s500ms");
  CHECK(
      render_event(Json::parse(
          R"({"time": "T", "path": "db", "event": "exited", "pid": 7, "signal": "SIGKILL", "reason": "killed by SIGKILL"})")) ==
      "T exited             db pid=7: killed by SIGKILL");
  CHECK(render_event(
            Json::parse(R"({"time": "T", "path": "/", "event": "a_very_long_event_name_here"})")) ==
        "T a_very_long_event_name_here /");
}

TEST_SUITE("otpctl: worker messages") {
  TEST_CASE("call and cast take a path and a message: JSON, or a bare word as a string") {
    Invocation inv = parsed({"call", "app/kv", "get"});
    CHECK(inv.command == Command::call);
    CHECK(inv.paths == std::vector<std::string>{"app/kv"});
    CHECK(inv.message == R"("get")");
    inv = parsed({"cast", "kv", R"({"put": {"a": 1}})", "--json"});
    CHECK(inv.command == Command::cast);
    CHECK(inv.message == R"({"put":{"a":1}})");
    CHECK(inv.json);
    inv = parsed({"call", "kv", "--", "-5"});
    CHECK(inv.message == "-5");
    inv = parsed({"whereis", "kv"});
    CHECK(inv.command == Command::whereis);
  }

  TEST_CASE("call refuses a missing or unreadable message") {
    CHECK(usage_error({"call"}).find("which worker?") != std::string::npos);
    CHECK(usage_error({"call", "kv"}).find("what message?") != std::string::npos);
    CHECK(usage_error({"call", "kv", "{put: 1}"}).find("is not JSON") != std::string::npos);
    CHECK(usage_error({"call", "kv", "get", "more"}).find("one MESSAGE") != std::string::npos);
    CHECK(usage_error({"whereis"}).find("which child?") != std::string::npos);
  }
}
