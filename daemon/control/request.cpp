#include "control/request.hpp"

#include <array>
#include <nlohmann/json.hpp>
#include <vector>

#include "config/signals.hpp"
#include "config/suggest.hpp"

namespace otpd::control {
namespace {

using Json = nlohmann::json;

// What each command accepts besides id and cmd; anything else is refused, so
// that a misspelt argument is not silently ignored.
enum Arg : unsigned {
  kPath = 1,
  kSignal = 2,
  kFollow = 4,
  kBacklog = 8,
  kProtocol = 16,
  kClient = 32,
  kLines = 64,
  kStream = 128,
  kDryRun = 256,
  kText = 512,
  kFile = 1024,
  kSpec = 2048,
  kName = 4096,
  kMessage = 8192,
  kTimeout = 16384,
};

struct CommandRule {
  Command cmd;
  std::string_view name;
  bool read_only;
  unsigned args;
  unsigned required;
};

constexpr std::array<CommandRule, 18> kCommands{{
    {Command::hello, "hello", true, kProtocol | kClient, kProtocol},
    {Command::version, "version", true, 0, 0},
    {Command::ping, "ping", true, 0, 0},
    {Command::status, "status", true, kPath, 0},
    {Command::start, "start", false, kPath, kPath},
    {Command::stop, "stop", false, kPath, kPath},
    {Command::restart, "restart", false, kPath, kPath},
    {Command::signal, "signal", false, kPath | kSignal, kPath | kSignal},
    {Command::events, "events", true, kFollow | kBacklog, 0},
    {Command::logs, "logs", true, kPath | kLines | kFollow | kStream, kPath},
    {Command::shutdown, "shutdown", false, 0, 0},
    {Command::reload, "reload", false, kDryRun | kText | kFile, 0},
    {Command::start_child, "start_child", false, kPath | kSpec | kFile, kPath | kSpec},
    {Command::terminate_child, "terminate_child", false, kPath | kName, kPath | kName},
    {Command::call, "call", false, kPath | kMessage | kTimeout, kPath | kMessage},
    {Command::cast, "cast", false, kPath | kMessage, kPath | kMessage},
    {Command::whereis, "whereis", true, kPath, kPath},
    {Command::health, "health", true, 0, 0},
}};

struct ArgName {
  Arg arg;
  std::string_view name;
};
constexpr std::array<ArgName, 15> kArgs{{
    {kPath, "path"},
    {kSignal, "signal"},
    {kFollow, "follow"},
    {kBacklog, "backlog"},
    {kProtocol, "protocol"},
    {kClient, "client"},
    {kLines, "lines"},
    {kStream, "stream"},
    {kDryRun, "dry_run"},
    {kText, "text"},
    {kFile, "file"},
    {kSpec, "spec"},
    {kName, "name"},
    {kMessage, "message"},
    {kTimeout, "timeout_ms"},
}};

const CommandRule& rule_of(Command cmd) {
  for (const CommandRule& rule : kCommands) {
    if (rule.cmd == cmd) return rule;
  }
  return kCommands.front();
}

bool fail(RequestError& error, ErrorCode code, std::string message) {
  error.code = code;
  error.message = std::move(message);
  return false;
}

std::string in_quotes(std::string_view text) {
  return "'" + std::string(text) + "'";
}

// The small integers the protocol uses; a float or a huge number is a type error.
bool read_int(const Json& value, long long min, long long max, int& out) {
  long long n = 0;
  if (value.is_number_unsigned()) {
    const auto u = value.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(max)) return false;
    n = static_cast<long long>(u);
  } else if (value.is_number_integer()) {
    n = value.get<std::int64_t>();
  } else {
    return false;
  }
  if (n < min || n > max) return false;
  out = static_cast<int>(n);
  return true;
}

bool read_signal(const Json& value, Request& request, RequestError& error) {
  if (value.is_string()) {
    request.signal = config::signal_number(value.get_ref<const std::string&>());
    if (request.signal == 0) {
      return fail(error, ErrorCode::invalid_request,
                  "signal: no signal " + in_quotes(value.get_ref<const std::string&>()));
    }
    return true;
  }
  if (read_int(value, 1, 64, request.signal) &&
      config::signal_number(std::to_string(request.signal)) != 0) {
    return true;
  }
  return fail(error, ErrorCode::invalid_request,
              "signal: expected a signal name such as \"HUP\" or a signal number");
}

bool read_arg(Arg arg, const Json& value, Request& request, RequestError& error) {
  switch (arg) {
    case kPath:
      if (!value.is_string())
        return fail(error, ErrorCode::invalid_request, "path: expected a string");
      request.path = value.get_ref<const std::string&>();
      return true;
    case kSignal:
      return read_signal(value, request, error);
    case kFollow:
      if (!value.is_boolean()) {
        return fail(error, ErrorCode::invalid_request, "follow: expected true or false");
      }
      request.follow = value.get<bool>();
      return true;
    case kBacklog:
      if (!read_int(value, 0, kMaxBacklog, request.backlog)) {
        return fail(error, ErrorCode::invalid_request,
                    "backlog: expected a whole number from 0 to " + std::to_string(kMaxBacklog));
      }
      return true;
    case kProtocol:
      if (!read_int(value, 1, 1'000'000, request.protocol)) {
        return fail(error, ErrorCode::invalid_request,
                    "protocol: expected a protocol version, a whole number >= 1");
      }
      if (request.protocol > kProtocolVersion) {
        return fail(error, ErrorCode::unsupported_version,
                    "this otpd speaks protocol " + std::to_string(kProtocolVersion) + ", not " +
                        std::to_string(request.protocol) + "; upgrade otpd");
      }
      return true;
    case kLines:
      if (!read_int(value, 0, kMaxLogLines, request.lines)) {
        return fail(error, ErrorCode::invalid_request,
                    "lines: expected a whole number from 0 to " + std::to_string(kMaxLogLines));
      }
      return true;
    case kStream: {
      const std::string expected = "stream: expected \"stdout\", \"stderr\" or \"both\"";
      if (!value.is_string()) return fail(error, ErrorCode::invalid_request, expected);
      const std::string& name = value.get_ref<const std::string&>();
      if (name == "stdout") {
        request.streams = Request::Streams::out;
      } else if (name == "stderr") {
        request.streams = Request::Streams::err;
      } else if (name == "both") {
        request.streams = Request::Streams::both;
      } else {
        return fail(error, ErrorCode::invalid_request, expected);
      }
      return true;
    }
    case kClient:
      if (!value.is_string()) {
        return fail(error, ErrorCode::invalid_request, "client: expected a string");
      }
      request.client = value.get_ref<const std::string&>();
      return true;
    case kDryRun:
      if (!value.is_boolean()) {
        return fail(error, ErrorCode::invalid_request, "dry_run: expected true or false");
      }
      request.dry_run = value.get<bool>();
      return true;
    case kText:
      if (!value.is_string())
        return fail(error, ErrorCode::invalid_request, "text: expected a string");
      request.text = value.get_ref<const std::string&>();
      return true;
    case kFile:
      if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
        return fail(error, ErrorCode::invalid_request, "file: expected a file name");
      }
      request.file = value.get_ref<const std::string&>();
      return true;
    case kSpec:
      // An object is a JSON spec already parsed: its text is read like any.
      if (value.is_object()) {
        request.spec = value.dump(-1, ' ', false, Json::error_handler_t::replace);
      } else if (value.is_string()) {
        request.spec = value.get_ref<const std::string&>();
      } else {
        return fail(error, ErrorCode::invalid_request,
                    "spec: expected the child spec as YAML or JSON text, or a JSON object");
      }
      return true;
    case kName:
      if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
        return fail(error, ErrorCode::invalid_request, "name: expected a child's name");
      }
      request.name = value.get_ref<const std::string&>();
      return true;
    case kMessage:
      // Any JSON value: what it means is the worker's business.
      request.message = value.dump(-1, ' ', false, Json::error_handler_t::replace);
      return true;
    case kTimeout:
      if (!read_int(value, 1, kMaxCallTimeoutMs, request.timeout_ms)) {
        return fail(
            error, ErrorCode::invalid_request,
            "timeout_ms: expected a whole number from 1 to " + std::to_string(kMaxCallTimeoutMs));
      }
      return true;
  }
  return true;
}

void reset(Request& request) {
  request.id.clear();
  request.path.clear();
  request.signal = 0;
  request.follow = false;
  request.backlog = 100;
  request.lines = 100;
  request.streams = Request::Streams::both;
  request.protocol = kProtocolVersion;
  request.client.clear();
  request.dry_run = false;
  request.text.clear();
  request.file.clear();
  request.spec.clear();
  request.name.clear();
  request.message.clear();
  request.timeout_ms = kDefaultCallTimeoutMs;
}

// Whether objects and arrays nest deeper than `limit` in JSON text, told in
// one pass before anything is built: nlohmann's parser would build any
// depth, and copying, printing or comparing a value recurses through it.
// Text that is not JSON may be misjudged; the parser refuses it anyway.
bool nests_deeper_than(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

std::vector<std::string_view> names_of_args(unsigned args) {
  std::vector<std::string_view> names;
  for (const ArgName& a : kArgs) {
    if (args & a.arg) names.push_back(a.name);
  }
  return names;
}

}  // namespace

const char* to_string(Command cmd) {
  return rule_of(cmd).name.data();
}

bool is_read_only(Command cmd) {
  return rule_of(cmd).read_only;
}

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::parse_error:
      return "parse_error";
    case ErrorCode::invalid_request:
      return "invalid_request";
    case ErrorCode::unknown_command:
      return "unknown_command";
    case ErrorCode::not_found:
      return "not_found";
    case ErrorCode::forbidden:
      return "forbidden";
    case ErrorCode::too_large:
      return "too_large";
    case ErrorCode::unsupported_version:
      return "unsupported_version";
    case ErrorCode::failed:
      return "failed";
    case ErrorCode::busy:
      return "busy";
  }
  return "failed";
}

bool parse_request(std::string_view line, Request& request, RequestError& error, bool read_only) {
  reset(request);
  error.id = "null";
  if (line.size() > kMaxRequestBytes) {
    return fail(error, ErrorCode::too_large, "the request is larger than 1 MiB");
  }
  // nlohmann's lexer takes a NUL byte for the end of input and would ignore
  // whatever follows it; raw NUL is never valid JSON text anyway.
  if (line.find('\0') != std::string_view::npos) {
    return fail(error, ErrorCode::parse_error, "the line is not valid JSON");
  }
  if (nests_deeper_than(line, kMaxRequestDepth)) {
    return fail(error, ErrorCode::invalid_request,
                "the request nests objects and arrays more than " +
                    std::to_string(kMaxRequestDepth) + " deep");
  }
  const Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(error, ErrorCode::parse_error, "the line is not valid JSON");
  if (!j.is_object()) return fail(error, ErrorCode::parse_error, "the line is not a JSON object");

  const auto id = j.find("id");
  if (id == j.end()) return fail(error, ErrorCode::invalid_request, "the request has no 'id'");
  // Only scalars: an id is echoed in every reply, and a nested one would
  // cost work (and recursion) in proportion to its depth each time.
  if (!id->is_string() && !id->is_number() && !id->is_null()) {
    return fail(error, ErrorCode::invalid_request, "id: expected a string, a number or null");
  }
  request.id = id->dump(-1, ' ', false, Json::error_handler_t::replace);
  error.id = request.id;

  const auto cmd = j.find("cmd");
  if (cmd == j.end()) return fail(error, ErrorCode::invalid_request, "the request has no 'cmd'");
  if (!cmd->is_string()) return fail(error, ErrorCode::invalid_request, "cmd: expected a string");
  const std::string& name = cmd->get_ref<const std::string&>();
  const CommandRule* rule = nullptr;
  for (const CommandRule& candidate : kCommands) {
    if (candidate.name == name) rule = &candidate;
  }
  if (rule == nullptr) {
    std::vector<std::string_view> names;
    for (const CommandRule& candidate : kCommands) names.push_back(candidate.name);
    return fail(error, ErrorCode::unknown_command,
                "no command " + in_quotes(name) + config::did_you_mean(name, names));
  }
  request.cmd = rule->cmd;
  if (read_only && !rule->read_only) {
    return fail(error, ErrorCode::forbidden,
                in_quotes(rule->name) + " needs full access; this user may only read");
  }

  unsigned seen = 0;
  for (const auto& [key, value] : j.items()) {
    if (key == "id" || key == "cmd") continue;
    const ArgName* arg = nullptr;
    for (const ArgName& candidate : kArgs) {
      if (candidate.name == key && (rule->args & candidate.arg)) arg = &candidate;
    }
    if (arg == nullptr) {
      const auto valid = names_of_args(rule->args);
      return fail(error, ErrorCode::invalid_request,
                  in_quotes(rule->name) + " takes no argument " + in_quotes(key) +
                      (valid.empty() ? std::string() : config::did_you_mean(key, valid)));
    }
    if (!read_arg(arg->arg, value, request, error)) return false;
    seen |= arg->arg;
  }
  for (const ArgName& a : kArgs) {
    if ((rule->required & a.arg) && !(seen & a.arg)) {
      return fail(error, ErrorCode::invalid_request,
                  in_quotes(rule->name) + " needs " + in_quotes(a.name));
    }
  }
  if (request.cmd == Command::status && !(seen & kPath)) request.path = "/";
  // Only the file otpd runs is ever applied, so that what runs is what a
  // restart of otpd would run; other text may only be compared with it.
  if ((seen & kText) && !request.dry_run) {
    return fail(error, ErrorCode::invalid_request, "'text' needs \"dry_run\": true");
  }
  if ((seen & kFile) && !(seen & (kText | kSpec))) {
    return fail(error, ErrorCode::invalid_request, "'file' names a 'text'; give both");
  }
  return true;
}

}  // namespace otpd::control
