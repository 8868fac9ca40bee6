#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "control/json_text.hpp"
#include "control/node_json.hpp"
#include "control/reply.hpp"
#include "control/request.hpp"

using namespace otpd::control;
using nlohmann::json;

namespace {

struct Parsed {
  bool ok = false;
  ClientRequest request;
  RequestError error;
};

Parsed parse(std::string_view line) {
  Parsed p;
  p.ok = parse_request(line, p.request, p.error);
  return p;
}

// The error a line earns: "code: message".
std::string error_of(std::string_view line) {
  const Parsed p = parse(line);
  if (p.ok) return "(parsed)";
  return std::string(otpd::protocol::name_of(p.error.code)) + ": " + p.error.message;
}

}  // namespace

TEST_SUITE("request") {
  TEST_CASE("every command parses with its arguments") {
    auto p = parse(R"({"id":1,"cmd":"ping"})");
    REQUIRE(p.ok);
    CHECK(p.request.cmd == Command::ping);
    CHECK(p.request.id == "1");

    p = parse(R"({"id":"a","cmd":"status"})");
    REQUIRE(p.ok);
    CHECK(p.request.path == "/");
    CHECK(p.request.id == "\"a\"");

    p = parse(R"({"cmd":"stop","path":"app/api","id":-1.5e3})");
    REQUIRE(p.ok);
    CHECK(p.request.cmd == Command::stop);
    CHECK(p.request.path == "app/api");
    CHECK(json::parse(p.request.id) == -1500.0);
    CHECK(parse(R"({"id":null,"cmd":"ping"})").request.id == "null");

    p = parse(R"({"id":2,"cmd":"signal","path":"a","signal":"hup"})");
    REQUIRE(p.ok);
    CHECK(p.request.signal == 1);
    p = parse(R"({"id":2,"cmd":"signal","path":"a","signal":"SIGUSR1"})");
    REQUIRE(p.ok);
    CHECK(p.request.signal == 10);
    p = parse(R"({"id":2,"cmd":"signal","path":"a","signal":15})");
    REQUIRE(p.ok);
    CHECK(p.request.signal == 15);

    p = parse(R"({"id":3,"cmd":"events","follow":true,"backlog":0})");
    REQUIRE(p.ok);
    CHECK(p.request.follow);
    CHECK(p.request.backlog == 0);
    p = parse(R"({"id":3,"cmd":"events"})");
    REQUIRE(p.ok);
    CHECK_FALSE(p.request.follow);
    CHECK(p.request.backlog == 100);

    p = parse(R"({"id":4,"cmd":"hello","protocol":1,"client":"otpctl 0.1.0"})");
    REQUIRE(p.ok);
    CHECK(p.request.client == "otpctl 0.1.0");

    for (const char* cmd : {"version", "shutdown"}) {
      CAPTURE(cmd);
      CHECK(parse(std::string(R"({"id":0,"cmd":")") + cmd + "\"}").ok);
    }
    for (const char* cmd : {"start", "restart"}) {
      CAPTURE(cmd);
      CHECK(parse(std::string(R"({"id":0,"cmd":")") + cmd + R"(","path":"x"})").ok);
    }
  }

  TEST_CASE("logs: path required, lines, stream and follow") {
    auto p = parse(R"({"id":1,"cmd":"logs","path":"app/web"})");
    REQUIRE(p.ok);
    CHECK(p.request.cmd == Command::logs);
    CHECK(p.request.path == "app/web");
    CHECK(p.request.lines == 100);
    CHECK(p.request.streams == ClientRequest::Streams::both);
    CHECK_FALSE(p.request.follow);

    p = parse(R"({"id":1,"cmd":"logs","path":"a","lines":0,"stream":"stderr","follow":true})");
    REQUIRE(p.ok);
    CHECK(p.request.lines == 0);
    CHECK(p.request.streams == ClientRequest::Streams::err);
    CHECK(p.request.follow);
    CHECK(parse(R"({"id":1,"cmd":"logs","path":"a","stream":"stdout"})").request.streams ==
          ClientRequest::Streams::out);
    CHECK(is_read_only(Command::logs));

    CHECK(error_of(R"({"id":1,"cmd":"logs"})") == "invalid_request: 'logs' needs 'path'");
    CHECK(error_of(R"({"id":1,"cmd":"logs","path":"a","lines":1000001})") ==
          "invalid_request: lines: expected a whole number from 0 to 1000000");
    CHECK(error_of(R"({"id":1,"cmd":"logs","path":"a","stream":"out"})") ==
          "invalid_request: stream: expected \"stdout\", \"stderr\" or \"both\"");
    CHECK(error_of(R"({"id":1,"cmd":"logs","path":"a","backlog":3})")
              .starts_with("invalid_request: 'logs' takes no argument 'backlog'"));
  }

  TEST_CASE("a request reused for the next line starts afresh") {
    ClientRequest request;
    RequestError error;
    REQUIRE(parse_request(R"({"id":1,"cmd":"events","follow":true,"backlog":5})", request, error));
    REQUIRE(parse_request(R"({"id":2,"cmd":"events"})", request, error));
    CHECK_FALSE(request.follow);
    CHECK(request.backlog == 100);
    CHECK(request.id == "2");
  }

  TEST_CASE("parse_error: not JSON, or not an object") {
    CHECK(error_of("nope") == "parse_error: the line is not valid JSON");
    CHECK(error_of(R"({"id":1,"cmd":"ping")") == "parse_error: the line is not valid JSON");
    CHECK(error_of("[1,2]") == "parse_error: the line is not a JSON object");
    CHECK(error_of("\"ping\"") == "parse_error: the line is not a JSON object");
    CHECK(error_of("{\"id\":\"\xff\",\"cmd\":\"ping\"}") ==
          "parse_error: the line is not valid JSON");
    CHECK(parse("nope").error.id == "null");
  }

  TEST_CASE("invalid_request: missing id or cmd, wrong types, stray arguments") {
    CHECK(error_of(R"({"cmd":"ping"})") == "invalid_request: the request has no 'id'");
    CHECK(error_of(R"({"id":1})") == "invalid_request: the request has no 'cmd'");
    CHECK(error_of(R"({"id":1,"cmd":7})") == "invalid_request: cmd: expected a string");
    CHECK(error_of(R"({"id":1,"cmd":"stop"})") == "invalid_request: 'stop' needs 'path'");
    CHECK(error_of(R"({"id":1,"cmd":"signal","path":"a"})") ==
          "invalid_request: 'signal' needs 'signal'");
    CHECK(error_of(R"({"id":1,"cmd":"stop","path":3})") ==
          "invalid_request: path: expected a string");
    CHECK(error_of(R"({"id":1,"cmd":"stop","pth":"a"})") ==
          "invalid_request: 'stop' takes no argument 'pth' (did you mean 'path'?)");
    CHECK(error_of(R"({"id":1,"cmd":"ping","path":"a"})") ==
          "invalid_request: 'ping' takes no argument 'path'");
    CHECK(error_of(R"({"id":1,"cmd":"events","follow":"yes"})") ==
          "invalid_request: follow: expected true or false");
    CHECK(error_of(R"({"id":1,"cmd":"events","backlog":1001})") ==
          "invalid_request: backlog: expected a whole number from 0 to 1000");
    CHECK(error_of(R"({"id":1,"cmd":"events","backlog":-1})") ==
          "invalid_request: backlog: expected a whole number from 0 to 1000");
    CHECK(error_of(R"({"id":1,"cmd":"events","backlog":2.5})") ==
          "invalid_request: backlog: expected a whole number from 0 to 1000");
    CHECK(error_of(R"({"id":1,"cmd":"signal","path":"a","signal":"SIGNOPE"})") ==
          "invalid_request: signal: no signal 'SIGNOPE'");
    CHECK(error_of(R"({"id":1,"cmd":"signal","path":"a","signal":0})") ==
          "invalid_request: signal: expected a signal name such as \"HUP\" or a signal number");
    CHECK(error_of(R"({"id":1,"cmd":"signal","path":"a","signal":99999999999})") ==
          "invalid_request: signal: expected a signal name such as \"HUP\" or a signal number");
    CHECK(error_of(R"({"id":1,"cmd":"hello"})") == "invalid_request: 'hello' needs 'protocol'");
    CHECK(error_of(R"({"id":1,"cmd":"hello","protocol":0})") ==
          "invalid_request: protocol: expected a protocol version, a whole number >= 1");
  }

  TEST_CASE("the id is echoed in errors once it could be read") {
    CHECK(parse(R"({"id":"abc","cmd":"nope"})").error.id == "\"abc\"");
    CHECK(parse(R"({"id":null,"cmd":"nope"})").error.id == "null");
    CHECK(parse(R"({"cmd":"nope"})").error.id == "null");
  }

  TEST_CASE("unknown_command suggests the nearest") {
    CHECK(error_of(R"({"id":1,"cmd":"stauts"})") ==
          "unknown_command: no command 'stauts' (did you mean 'status'?)");
    CHECK(error_of(R"({"id":1,"cmd":"frobnicate"})") == "unknown_command: no command 'frobnicate'");
  }

  TEST_CASE("unsupported_version for a newer client") {
    CHECK(error_of(R"({"id":1,"cmd":"hello","protocol":2})") ==
          "unsupported_version: this otpd speaks protocol 1, not 2; upgrade otpd");
  }

  TEST_CASE("too_large above 1 MiB") {
    const std::string padding(kMaxRequestBytes, ' ');
    CHECK(error_of(R"({"id":1,"cmd":"ping"})" + padding) ==
          "too_large: the request is larger than 1 MiB");
  }

  TEST_CASE("a read-only client is refused a command that changes things before its arguments") {
    ClientRequest request;
    RequestError error;
    const std::string deep = std::string(60, '[') + std::string(60, ']');
    CHECK_FALSE(
        parse_request(R"({"id":7,"cmd":"call","path":"w","message":)" + deep + R"(,"bogus":1})",
                      request, error, /*read_only=*/true));
    CHECK(error.code == ErrorCode::forbidden);
    CHECK(error.id == "7");
    CHECK(error.message == "'call' needs full access; this user may only read");
    CHECK(request.message.empty());
    CHECK(parse_request(R"({"id":8,"cmd":"status","path":"a"})", request, error, true));
  }

  TEST_CASE("read-only commands") {
    for (Command c :
         {Command::hello, Command::version, Command::ping, Command::status, Command::events}) {
      CHECK(is_read_only(c));
    }
    for (Command c :
         {Command::start, Command::stop, Command::restart, Command::signal, Command::shutdown}) {
      CHECK_FALSE(is_read_only(c));
    }
  }

  TEST_CASE("deep nesting and odd input neither crash nor pass") {
    const std::string too_deep =
        "invalid_request: the request nests objects and arrays more than 64 deep";
    CHECK(error_of(std::string(100000, '[')) == too_deep);
    // Refused before anything would walk them recursively, wherever they are.
    const std::string deep = std::string(500000, '[') + std::string(500000, ']');
    CHECK(error_of("{\"id\":" + deep + ",\"cmd\":\"ping\"}") == too_deep);
    CHECK(error_of("{\"id\":1,\"cmd\":\"stop\",\"path\":" + deep + "}") == too_deep);
    const std::string message = std::string(100000, '[') + std::string(100000, ']');
    CHECK(error_of("{\"id\":1,\"cmd\":\"call\",\"path\":\"w\",\"message\":" + message + "}") ==
          too_deep);
    // Brackets inside strings are text, however many.
    const std::string brackets(200000, '[');
    const Parsed text =
        parse("{\"id\":1,\"cmd\":\"call\",\"path\":\"w\",\"message\":\"" + brackets + "\\\"\"}");
    REQUIRE(text.ok);
    CHECK(text.request.message.size() == brackets.size() + 4);
    // 63 levels inside the request's own object are allowed.
    const std::string allowed = std::string(63, '[') + std::string(63, ']');
    CHECK(parse("{\"id\":1,\"cmd\":\"call\",\"path\":\"w\",\"message\":" + allowed + "}").ok);
    CHECK(error_of("{\"id\":1,\"cmd\":\"call\",\"path\":\"w\",\"message\":[" + allowed + "]}") ==
          too_deep);
    CHECK(error_of(R"({"id":{"a":1},"cmd":"ping"})") ==
          "invalid_request: id: expected a string, a number or null");
    CHECK(error_of(std::string("{\"id\":1,\"cmd\":\"ping\"}\0", 22)) ==
          "parse_error: the line is not valid JSON");
  }
}

TEST_SUITE("reply") {
  TEST_CASE("lines are JSON objects with the id, ending in a newline") {
    std::string out;
    append_result(out, "7", "\"pong\"");
    append_error(out, "\"x\"", ErrorCode::not_found, "no \"child\"\n");
    append_event(out, "null", R"({"path":"a"})");
    CHECK(out ==
          "{\"id\":7,\"result\":\"pong\"}\n"
          "{\"id\":\"x\",\"error\":{\"code\":\"not_found\",\"message\":\"no \\\"child\\\"\\n\"}}\n"
          "{\"id\":null,\"event\":{\"path\":\"a\"}}\n");
  }

  TEST_CASE("strings stay valid JSON whatever their bytes") {
    std::string out;
    append_json_string(out, std::string("a\x01\x7f\xff\xc3\xa9\xe2\x82", 8));
    CHECK(out == "\"a\\u0001\\u007f\xEF\xBF\xBD\xc3\xa9\xEF\xBF\xBD\xEF\xBF\xBD\"");
    CHECK(json::parse(out).is_string());
  }
}

TEST_SUITE("node json") {
  TEST_CASE("a supervisor with a process below it") {
    using namespace otpd::supervise;
    NodeStatus process;
    process.path = "app/api";
    process.name = "api";
    process.state = "running";
    process.command = {"./api", "--x"};
    process.pid = 42;
    process.uptime = Duration{1500};
    process.restarts = 2;
    process.last_exit =
        ChildExit{ChildExit::Kind::abnormal, ExitStatus::killed(9), "killed by SIGKILL"};
    NodeStatus root;
    root.path = root.name = "/";
    root.is_supervisor = true;
    root.state = "running";
    root.strategy = otpd::config::Strategy::one_for_all;
    root.intensity = 3;
    root.period = Duration{5000};
    root.intensity_used = 1;
    root.children.push_back(process);

    std::string out;
    append_node_json(out, root);
    const json j = json::parse(out);
    CHECK(j["path"] == "/");
    CHECK(j["kind"] == "supervisor");
    CHECK(j["strategy"] == "one_for_all");
    CHECK(j["intensity_used"] == 1);
    CHECK(j["period_ms"] == 5000);
    CHECK(j["last_exit"].is_null());
    const json& api = j["children"][0];
    CHECK(api["kind"] == "process");
    CHECK(api["command"] == json::array({"./api", "--x"}));
    CHECK(api["pid"] == 42);
    CHECK(api["uptime_ms"] == 1500);
    CHECK(api["restarts"] == 2);
    CHECK(api["last_exit"] ==
          json::parse(R"({"signal":"SIGKILL","core_dumped":false,"reason":"killed by SIGKILL"})"));
    CHECK_FALSE(api.contains("children"));
  }

  TEST_CASE("a process that is not running") {
    otpd::supervise::NodeStatus process;
    process.path = process.name = "x";
    process.state = "stopped";
    process.held = true;
    process.last_exit =
        otpd::supervise::ChildExit{otpd::supervise::ChildExit::Kind::abnormal,
                                   otpd::supervise::ExitStatus::exited(3), "exited with status 3"};
    std::string out;
    append_node_json(out, process);
    const json j = json::parse(out);
    CHECK(j["pid"].is_null());
    CHECK(j["uptime_ms"].is_null());
    CHECK(j["held"] == true);
    CHECK(j["last_exit"] == json::parse(R"({"exit_status":3,"reason":"exited with status 3"})"));
  }

  TEST_CASE("reload: dry_run, and text with file only for a dry run") {
    auto p = parse(R"({"id":1,"cmd":"reload"})");
    REQUIRE(p.ok);
    CHECK(p.request.cmd == Command::reload);
    CHECK(!p.request.dry_run);
    CHECK(!is_read_only(Command::reload));
    p = parse(R"({"id":1,"cmd":"reload","dry_run":true,"text":"tree: {}","file":"/etc/x.yaml"})");
    REQUIRE(p.ok);
    CHECK(p.request.dry_run);
    CHECK(p.request.text == "tree: {}");
    CHECK(p.request.file == "/etc/x.yaml");
    CHECK(error_of(R"({"id":1,"cmd":"reload","text":"tree: {}"})") ==
          "invalid_request: 'text' needs \"dry_run\": true");
    CHECK(error_of(R"({"id":1,"cmd":"reload","dry_run":true,"file":"x"})") ==
          "invalid_request: 'file' names a 'text'; give both");
    CHECK(error_of(R"({"id":1,"cmd":"reload","dry_run":1})") ==
          "invalid_request: dry_run: expected true or false");
    CHECK(error_of(R"({"id":1,"cmd":"reload","dryrun":true})") ==
          "invalid_request: 'reload' takes no argument 'dryrun' (did you mean 'dry_run'?)");
    // A request reused for the next line forgets the reload's arguments.
    ClientRequest request;
    RequestError error;
    REQUIRE(parse_request(R"({"id":1,"cmd":"reload","dry_run":true,"text":"t","file":"f"})",
                          request, error));
    REQUIRE(parse_request(R"({"id":2,"cmd":"reload"})", request, error));
    CHECK(!request.dry_run);
    CHECK(request.text.empty());
    CHECK(request.file.empty());
  }

  TEST_CASE("start_child and terminate_child: a spec as text or object, a name") {
    auto p = parse(R"({"id":1,"cmd":"start_child","path":"jobs","spec":"name: a\ncommand: [a]"})");
    REQUIRE(p.ok);
    CHECK(p.request.cmd == Command::start_child);
    CHECK(p.request.path == "jobs");
    CHECK(p.request.spec == "name: a\ncommand: [a]");
    CHECK(!is_read_only(Command::start_child));
    CHECK(!is_read_only(Command::terminate_child));
    p = parse(R"({"id":1,"cmd":"start_child","path":"jobs","spec":{"name":"a"},"file":"a.json"})");
    REQUIRE(p.ok);
    CHECK(p.request.spec == R"({"name":"a"})");
    CHECK(p.request.file == "a.json");
    CHECK(error_of(R"({"id":1,"cmd":"start_child","path":"jobs"})") ==
          "invalid_request: 'start_child' needs 'spec'");
    CHECK(error_of(R"({"id":1,"cmd":"start_child","spec":"x"})") ==
          "invalid_request: 'start_child' needs 'path'");
    CHECK(error_of(R"({"id":1,"cmd":"start_child","path":"jobs","spec":[1]})") ==
          "invalid_request: spec: expected the child spec as YAML or JSON text, or a JSON object");
    p = parse(R"({"id":1,"cmd":"terminate_child","path":"jobs","name":"a"})");
    REQUIRE(p.ok);
    CHECK(p.request.cmd == Command::terminate_child);
    CHECK(p.request.name == "a");
    CHECK(error_of(R"({"id":1,"cmd":"terminate_child","path":"jobs","name":""})") ==
          "invalid_request: name: expected a child's name");
    CHECK(error_of(R"({"id":1,"cmd":"terminate_child","path":"jobs","spec":"x"})") ==
          "invalid_request: 'terminate_child' takes no argument 'spec'");
    ClientRequest request;
    RequestError error;
    REQUIRE(parse_request(R"({"id":1,"cmd":"start_child","path":"j","spec":"s"})", request, error));
    REQUIRE(
        parse_request(R"({"id":2,"cmd":"terminate_child","path":"j","name":"n"})", request, error));
    CHECK(request.spec.empty());
  }
}

TEST_SUITE("request: worker messages") {
  TEST_CASE("call takes a path, any JSON message and a timeout; cast and whereis less") {
    auto p = parse(R"({"id":1,"cmd":"call","path":"app/kv","message":{"put":[1,{"a":null}]}})");
    REQUIRE(p.ok);
    CHECK(p.request.cmd == Command::call);
    CHECK(p.request.path == "app/kv");
    CHECK(p.request.message == R"({"put":[1,{"a":null}]})");
    CHECK(p.request.timeout_ms == kDefaultCallTimeoutMs);
    p = parse(R"({"id":2,"cmd":"call","path":"kv","message":"get","timeout_ms":250})");
    REQUIRE(p.ok);
    CHECK(p.request.message == R"("get")");
    CHECK(p.request.timeout_ms == 250);
    p = parse(R"({"id":3,"cmd":"cast","path":"kv","message":null})");
    REQUIRE(p.ok);
    CHECK(p.request.message == "null");
    p = parse(R"({"id":4,"cmd":"whereis","path":"kv"})");
    REQUIRE(p.ok);
    CHECK(is_read_only(Command::whereis));
    CHECK_FALSE(is_read_only(Command::call));
    CHECK_FALSE(is_read_only(Command::cast));
  }

  TEST_CASE("what call, cast and whereis refuse") {
    CHECK(error_of(R"({"id":1,"cmd":"call","path":"kv"})") ==
          "invalid_request: 'call' needs 'message'");
    CHECK(error_of(R"({"id":1,"cmd":"call","message":1})") ==
          "invalid_request: 'call' needs 'path'");
    CHECK(error_of(R"({"id":1,"cmd":"call","path":"kv","message":1,"timeout_ms":0})") ==
          "invalid_request: timeout_ms: expected a whole number from 1 to 300000");
    CHECK(error_of(R"({"id":1,"cmd":"cast","path":"kv","message":1,"timeout_ms":5})") ==
          "invalid_request: 'cast' takes no argument 'timeout_ms'");
    CHECK(error_of(R"({"id":1,"cmd":"whereis","path":"kv","mesage":1})") ==
          "invalid_request: 'whereis' takes no argument 'mesage'");
    // A message is kept from one request to the next only when given.
    ClientRequest request;
    RequestError error;
    REQUIRE(parse_request(R"({"id":1,"cmd":"cast","path":"kv","message":[1]})", request, error));
    REQUIRE(parse_request(R"({"id":2,"cmd":"whereis","path":"kv"})", request, error));
    CHECK(request.message.empty());
  }
}
