#include "config/worker_reader.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <string_view>

#include "config/cron_expression.hpp"
#include "config/exec_reader.hpp"
#include "config/file_watch_reader.hpp"
#include "config/logs_reader.hpp"
#include "config/process_reader.hpp"
#include "config/readiness_reader.hpp"

namespace otpd::config {
namespace {

using Json = nlohmann::json;

// Every kind a user may write. The tree reader turns dynamic_supervisor into
// a supervisor before this reader sees it, but it belongs in the suggestions.
constexpr std::array<std::string_view, 5> kKinds{"agent", "cron", "dynamic_supervisor",
                                                 "file_watch", "health_check"};

constexpr std::array<std::string_view, 2> kAgentKeys{"kind", "value"};
constexpr std::array<std::string_view, 9> kHealthCheckKeys{
    "kind", "tcp", "http", "exec", "interval", "timeout", "failures", "initial_delay", "guards"};
constexpr std::array<std::string_view, 6> kFileWatchKeys{"kind",   "paths",    "target",
                                                         "action", "debounce", "ignore"};

constexpr std::array<std::string_view, 12> kCronKeys{
    "kind",         "schedule", "every", "command", "timeout", "overlap",
    "run_at_start", "cwd",      "env",   "user",    "output",  "group"};

template <std::size_t N>
std::vector<std::string_view> listed(const std::array<std::string_view, N>& words) {
  return {words.begin(), words.end()};
}

template <std::size_t N>
void check_keys(const std::vector<Field>& entries, const std::array<std::string_view, N>& valid) {
  for (const Field& entry : entries) {
    if (std::find(valid.begin(), valid.end(), entry.key()) == valid.end()) {
      fail_unknown_key(entry, listed(valid));
    }
  }
}

// --- YAML to JSON -------------------------------------------------------------

// JSON text is UTF-8; yaml-cpp passes any bytes through.
bool is_utf8(std::string_view text) {
  std::size_t at = 0;
  while (at < text.size()) {
    const auto lead = static_cast<unsigned char>(text[at]);
    std::size_t length = 0;
    char32_t code = 0;
    if (lead < 0x80) {
      ++at;
      continue;
    } else if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
      code = lead & 0x1f;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      code = lead & 0x0f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      code = lead & 0x07;
    } else {
      return false;
    }
    if (at + length > text.size()) return false;
    for (std::size_t i = 1; i < length; ++i) {
      const auto next = static_cast<unsigned char>(text[at + i]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points beyond Unicode.
    const char32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < smallest[length] || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) {
      return false;
    }
    at += length;
  }
  return true;
}

const char* const kNotUtf8 = "not valid UTF-8 text, which a JSON value must be";

// A plain (unquoted) scalar as YAML 1.2's core schema types it; a quoted one
// is always a string.
Json scalar_to_json(const Field& field) {
  const YamlNode& node = field.node();
  const std::string& text = node.Scalar();
  if (!is_utf8(text)) field.fail(kNotUtf8);
  if (node.Tag() == "!") return text;  // quoted
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return nullptr;
  }
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  // A number only when all of the text is one (JSON's syntax, which is
  // YAML's for decimal numbers).
  Json number = Json::parse(text, nullptr, false);
  if (!number.is_discarded() && number.is_number()) return number;
  return text;
}

Json to_json(const Field& field) {
  const YamlNode& node = field.node();
  if (node.IsNull()) return nullptr;
  if (node.IsScalar()) return scalar_to_json(field);
  if (node.IsSequence()) {
    Json list = Json::array();
    for (const Field& element : field.elements()) list.push_back(to_json(element));
    return list;
  }
  Json object = Json::object();
  for (const Field& entry : field.entries()) {
    const std::string key = entry.key();
    if (!is_utf8(key)) throw ConfigError(entry.key_location(), entry.label() + ": " + kNotUtf8);
    object[key] = to_json(entry);
  }
  return object;
}

AgentSettings read_agent(const std::vector<Field>& entries) {
  check_keys(entries, kAgentKeys);
  AgentSettings agent;
  for (const Field& entry : entries) {
    if (entry.key() == "value") agent.value = to_json(entry).dump();
  }
  return agent;
}

// --- health_check ---------------------------------------------------------------

bool is_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// http://HOST[:PORT][/PATH], HOST numeric (an IPv6 address in brackets) or
// localhost: otpd resolves no names, so that a probe never waits on DNS.
void read_http(const Field& field, HealthCheckSettings& check) {
  const std::string expected = "a URL such as http://127.0.0.1:8080/healthz";
  if (!field.node().IsScalar()) field.fail_expected(expected);
  const std::string url = field.non_empty_text();
  constexpr std::string_view scheme = "http://";
  if (url.rfind("https://", 0) == 0) {
    field.fail("https is not supported: probe a plain http:// port, or use exec with a client");
  }
  if (url.rfind(scheme, 0) != 0) field.fail_expected(expected);
  const std::string rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  check.target = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string host = authority;
  std::string port = "80";
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) field.fail_expected(expected);
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') field.fail_expected(expected);
      port = authority.substr(close + 2);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host == "localhost") host = "127.0.0.1";
  if (!is_digits(port) || port.size() > 5 || std::stoi(port) < 1 || std::stoi(port) > 65535) {
    field.fail_expected(expected, " (a port is a number from 1 to 65535)");
  }
  unsigned char address[sizeof(in6_addr)];
  if (inet_pton(AF_INET, host.c_str(), address) != 1 &&
      inet_pton(AF_INET6, host.c_str(), address) != 1) {
    field.fail_expected(expected, " ('" + host +
                                      "' is not a numeric address or localhost; names are not "
                                      "resolved)");
  }
  if (check.target.find_first_of(" \r\n") != std::string::npos) {
    field.fail("the path must not contain spaces or line breaks (percent-encode them)");
  }
  check.host = host;
  check.port = std::stoi(port);
  check.url = url;
}

HealthCheckSettings read_health_check(const std::vector<Field>& entries, const Field& worker) {
  check_keys(entries, kHealthCheckKeys);
  HealthCheckSettings check;
  const Field* probe = nullptr;
  for (const Field& entry : entries) {
    const std::string key = entry.key();
    if (key == "tcp" || key == "http" || key == "exec") {
      if (probe != nullptr) {
        throw ConfigError(entry.key_location(),
                          "worker." + key + ": cannot be combined with '" + probe->key() +
                              "': a health check probes one thing (tcp, http or exec)");
      }
      probe = &entry;
    }
  }
  if (probe == nullptr) {
    throw ConfigError(worker.value_location(),
                      "worker: a health_check needs what to probe: tcp, http or exec");
  }
  for (const Field& entry : entries) {
    const std::string key = entry.key();
    if (key == "tcp") {
      check.probe = HealthCheckSettings::Probe::tcp;
      read_tcp_address(entry, check.host, check.port);
    } else if (key == "http") {
      check.probe = HealthCheckSettings::Probe::http;
      read_http(entry, check);
    } else if (key == "exec") {
      check.probe = HealthCheckSettings::Probe::exec;
      read_probe_command(entry, check.command.argv, check.command.via_shell);
      check.command.cwd = entry.source().base_dir;
    } else if (key == "interval") {
      check.interval = entry.positive_duration();
    } else if (key == "timeout") {
      check.timeout = entry.positive_duration();
    } else if (key == "failures") {
      check.failures = static_cast<int>(entry.integer(1, 1'000'000));
    } else if (key == "initial_delay") {
      check.initial_delay = entry.duration();
      if (check.initial_delay < Duration::zero()) entry.fail("must not be negative");
    } else if (key == "guards") {
      // That it names a sibling process is checked with the siblings.
      check.guards = entry.non_empty_text();
    }
  }
  return check;
}

// --- cron ------------------------------------------------------------------------

// Errors point into the expression: "minute field: 61 is out of range 0-59"
// at the column of the 61.
CronExpression read_cron_schedule(const Field& field) {
  if (!field.node().IsScalar()) {
    field.fail_expected("a cron expression such as \"*/5 * * * *\" or a macro such as @daily");
  }
  const std::string text = field.text();
  try {
    return parse_cron_expression(text);
  } catch (const CronSyntaxError& e) {
    SourceLocation where = field.value_location();
    const bool quoted = field.node().Tag() == "!";
    if (where.column > 0 && text.find('\n') == std::string::npos) {
      where.column += static_cast<int>(e.offset()) + (quoted ? 1 : 0);
    }
    throw ConfigError(where, field.label() + ": " + e.what());
  }
}

constexpr std::array<Choice<CronSettings::Overlap>, 3> kOverlaps{{
    {"skip", CronSettings::Overlap::skip},
    {"queue", CronSettings::Overlap::queue},
    {"kill", CronSettings::Overlap::kill},
}};

// Shorter intervals would keep a core forking.
constexpr Duration kShortestEvery{100};

CronSettings read_cron(const std::vector<Field>& entries, const Field& worker) {
  check_keys(entries, kCronKeys);
  CronSettings cron;
  cron.command.cwd = worker.source().base_dir;
  const Field* when = nullptr;
  bool has_command = false;
  ExecDraft draft;
  for (const Field& entry : entries) {
    const std::string key = entry.key();
    if (key == "schedule" || key == "every") {
      if (when != nullptr) {
        throw ConfigError(entry.key_location(),
                          "worker." + key + ": cannot be combined with '" + when->key() +
                              "': a cron job runs on a schedule or at an interval");
      }
      when = &entry;
    }
    if (key == "schedule") {
      cron.schedule = read_cron_schedule(entry);
    } else if (key == "every") {
      cron.every = entry.positive_duration();
      if (cron.every < kShortestEvery) {
        entry.fail("must be at least " + format_duration(kShortestEvery));
      }
    } else if (key == "command") {
      read_probe_command(entry, cron.command.argv, cron.command.via_shell);
      has_command = true;
    } else if (key == "timeout") {
      cron.timeout = read_start_timeout(entry);
    } else if (key == "overlap") {
      cron.overlap = choose<CronSettings::Overlap>(entry, kOverlaps);
    } else if (key == "run_at_start") {
      cron.run_at_start = entry.boolean();
    } else if (key == "cwd") {
      read_cwd(entry, cron.command);
    } else if (key == "env") {
      read_env(entry, cron.command);
    } else if (key == "user") {
      read_user(entry, cron.command, draft);
    } else if (key == "group") {
      read_group(entry, cron.command);
    } else if (key == "output") {
      cron.command.output = choose<Output>(entry, kOutputs);
    }
  }
  if (when == nullptr) {
    throw ConfigError(worker.value_location(),
                      "worker: a cron job needs 'schedule' (a cron expression such as "
                      "\"0 3 * * *\") or 'every' (an interval such as 30s)");
  }
  if (!has_command) {
    throw ConfigError(worker.value_location(),
                      "worker: a cron job needs a 'command': [program, arg, ...] or a shell "
                      "command line");
  }
  finish_exec(draft, cron.command);
  return cron;
}

}  // namespace

WorkerSpec read_worker(const Field& field) {
  const std::string expected = "a mapping with a 'kind', such as {kind: agent}";
  if (!field.node().IsMap()) field.fail_expected(expected);
  const std::vector<Field> entries = field.entries();
  const auto kind_entry = std::find_if(entries.begin(), entries.end(),
                                       [](const Field& entry) { return entry.key() == "kind"; });
  if (kind_entry == entries.end()) {
    throw ConfigError(field.value_location(),
                      field.label() + ": needs a 'kind': one of " + join(listed(kKinds), " or "));
  }
  const std::string kind = kind_entry->text();
  if (kind == "agent") return {read_agent(entries)};
  if (kind == "health_check") return {read_health_check(entries, field)};
  if (kind == "cron") return {read_cron(entries, field)};
  if (kind == "file_watch") {
    check_keys(entries, kFileWatchKeys);
    return {read_file_watch(entries, field)};
  }
  std::vector<std::string_view> names = listed(kKinds);
  kind_entry->fail_expected("one of " + join(names, " or "), protocol::did_you_mean(kind, names));
}

}  // namespace otpd::config
