// One request line of the control protocol (docs/protocol.md), parsed and
// checked into a typed Request, or the protocol error to answer instead.
// No I/O here, so that it is unit-tested and fuzzed on its own.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace otpd::control {

inline constexpr int kProtocolVersion = 1;
// The longest request line, newline excluded.
inline constexpr std::size_t kMaxRequestBytes = std::size_t{1} << 20;
// How deep objects and arrays may nest in a request, the request itself
// included: every JSON value otpd keeps or passes on is at most this deep.
inline constexpr int kMaxRequestDepth = 64;
inline constexpr int kMaxBacklog = 1000;
// The most lines `logs` returns: the largest buffer a config may ask for.
inline constexpr int kMaxLogLines = 1'000'000;
// How long a `call` waits for the worker unless it says (OTP's default),
// and the longest it may ask for.
inline constexpr int kDefaultCallTimeoutMs = 5000;
inline constexpr int kMaxCallTimeoutMs = 300'000;

enum class Command {
  hello,
  version,
  ping,
  status,
  start,
  stop,
  restart,
  signal,
  events,
  logs,
  shutdown,
  reload,
  start_child,      // add a child to a dynamic supervisor
  terminate_child,  // stop and remove a dynamic supervisor's child
  call,
  cast,
  whereis,
  health,  // whether the tree is ready (docs/http.md, "Probes")
};
const char* to_string(Command);
// Read commands are the ones `read_group` may use: they change nothing.
bool is_read_only(Command);

enum class ErrorCode {
  parse_error,
  invalid_request,
  unknown_command,
  not_found,
  forbidden,
  too_large,
  unsupported_version,
  failed,
  busy,  // only a connection earns it: otpd is out of file descriptors
};
const char* to_string(ErrorCode);

struct Request {
  std::string id;  // the request's id as JSON text, echoed back as is
  Command cmd = Command::ping;
  std::string path;  // status: "/" unless given
  int signal = 0;    // signal: the signal number
  bool follow = false;
  int backlog = 100;
  int lines = 100;  // logs: how many buffered lines
  // logs: which of the child's streams.
  enum class Streams { both, out, err } streams = Streams::both;
  int protocol = kProtocolVersion;  // hello: the client's version
  std::string client;               // hello: who the client says it is
  bool dry_run = false;             // reload: say what it would do, do nothing
  // reload with dry_run: compare with this config text instead of the file
  // otpd runs; `file` names it in errors and is where relative paths start.
  std::string text;
  std::string file;
  // start_child: the child spec, YAML or JSON text (or a JSON object, sent
  // on as its text); errors name `file` when given, else "start_child".
  std::string spec;
  std::string name;  // terminate_child: the child's name
  // call, cast: the message for the worker, as JSON text.
  std::string message;
  int timeout_ms = kDefaultCallTimeoutMs;  // call
};

struct RequestError {
  ErrorCode code = ErrorCode::invalid_request;
  std::string message;
  std::string id = "null";  // the request's id when it could be read
};

// Parses one line (without its newline) into `request`, whose strings keep
// their capacity from one request to the next. Returns false and fills
// `error` when the line is not a valid request. For a `read_only` client a
// command that changes something is refused (ErrorCode::forbidden) before
// any of its arguments is read.
bool parse_request(std::string_view line, Request& request, RequestError& error,
                   bool read_only = false);

}  // namespace otpd::control
