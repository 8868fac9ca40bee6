#include "config/tree_reader.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "config/backoff_reader.hpp"
#include "config/dynamic_supervisor_reader.hpp"
#include "config/exec_reader.hpp"
#include "config/include_reader.hpp"
#include "config/load_context.hpp"
#include "config/logs_reader.hpp"
#include "config/process_reader.hpp"
#include "config/readiness_reader.hpp"
#include "config/worker_reader.hpp"

namespace otpd::config {
namespace {

// What a mapping in the tree describes. A bit set, so that one key can apply
// to several kinds; a new kind of child is a new bit.
enum Kind : unsigned {
  kProcess = 1,
  kSupervisor = 2,
  kRoot = 4,
  kDynamicSupervisor = 8,
  kWorker = 16,
};
constexpr unsigned kChild = kProcess | kSupervisor | kDynamicSupervisor | kWorker;
constexpr unsigned kAnySupervisor = kSupervisor | kRoot;

struct NodeDraft {
  Kind kind = kProcess;
  ChildSpec child;
  ProcessSpec process;
  ExecDraft exec;
  SupervisorSpec supervisor;
  WorkerSpec worker;
  bool shutdown_given = false;
  SourceLocation name_where;
  SourceLocation significant_where;
  // Keys that only make sense together, checked once all are read.
  std::optional<SourceLocation> start_timeout_where;
  std::optional<SourceLocation> watchdog_where;
  // Some of its keys had errors (recorded, when the source collects them):
  // the node is not whole, and checks that build on it are skipped.
  bool incomplete = false;
  // What ${NAME} in its values finds: its env_file and env.
  Variables variables;
};

struct KeyRule {
  std::string_view name;
  unsigned applies_to;
  // Whether writing this key is what makes a child of that kind (command,
  // shell, children): a child has exactly one such key.
  bool decides_kind;
  void (*read)(const Field&, NodeDraft&);
};

// The most copies `instances` makes of one child.
constexpr long long kMaxInstances = 1000;

void read_name(const Field& field, NodeDraft& node);
void read_children(const Field& field, NodeDraft& node);
void read_shutdown(const Field& field, NodeDraft& node);
void read_worker_entry(const Field& field, NodeDraft& node);

constexpr std::array<Choice<RestartType>, 3> kRestartTypes{{
    {"permanent", RestartType::permanent},
    {"transient", RestartType::transient},
    {"temporary", RestartType::temporary},
}};

constexpr std::array<Choice<AutoShutdown>, 3> kAutoShutdowns{{
    {"never", AutoShutdown::never},
    {"any_significant", AutoShutdown::any_significant},
    {"all_significant", AutoShutdown::all_significant},
}};

constexpr std::array<Choice<Strategy>, 3> kStrategies{{
    {"one_for_one", Strategy::one_for_one},
    {"one_for_all", Strategy::one_for_all},
    {"rest_for_one", Strategy::rest_for_one},
}};

// Every key a tree node may have. Adding a key is one line here plus its reader.
constexpr KeyRule kKeys[] = {
    {"name", kChild, false, read_name},
    {"command", kProcess, true, [](const Field& f, NodeDraft& n) { read_command(f, n.process); }},
    {"shell", kProcess, true, [](const Field& f, NodeDraft& n) { read_shell(f, n.process); }},
    {"children", kAnySupervisor, true, read_children},
    {"worker", kDynamicSupervisor | kWorker, true, read_worker_entry},
    {"restart", kChild, false,
     [](const Field& f, NodeDraft& n) { n.child.restart = choose<RestartType>(f, kRestartTypes); }},
    {"shutdown", kChild, false, read_shutdown},
    // On a process or a worker it is how that child restarts; on a
    // supervisor, the default for its children, as on `tree`.
    {"backoff", kChild | kRoot, false,
     [](const Field& f, NodeDraft& n) {
       (n.kind & kAnySupervisor ? n.supervisor.backoff : n.child.backoff) = read_backoff(f);
     }},
    {"strategy", kAnySupervisor, false,
     [](const Field& f, NodeDraft& n) {
       n.supervisor.strategy = choose<Strategy>(f, kStrategies);
     }},
    {"intensity", kAnySupervisor, false,
     [](const Field& f, NodeDraft& n) {
       n.supervisor.intensity = static_cast<int>(f.integer(0, 1'000'000));
     }},
    {"period", kAnySupervisor, false,
     [](const Field& f, NodeDraft& n) { n.supervisor.period = f.positive_duration(); }},
    {"auto_shutdown", kAnySupervisor, false,
     [](const Field& f, NodeDraft& n) {
       n.supervisor.auto_shutdown = choose<AutoShutdown>(f, kAutoShutdowns);
     }},
    {"significant", kChild, false,
     [](const Field& f, NodeDraft& n) {
       n.child.significant = f.boolean();
       n.significant_where = f.key_location();
     }},
    {"env", kProcess, false, [](const Field& f, NodeDraft& n) { read_env(f, n.process); }},
    {"cwd", kProcess, false, [](const Field& f, NodeDraft& n) { read_cwd(f, n.process); }},
    {"normal_exit", kProcess, false,
     [](const Field& f, NodeDraft& n) { read_normal_exit(f, n.process); }},
    {"user", kProcess, false,
     [](const Field& f, NodeDraft& n) { read_user(f, n.process, n.exec); }},
    {"group", kProcess, false, [](const Field& f, NodeDraft& n) { read_group(f, n.process); }},
    {"groups", kProcess, false, [](const Field& f, NodeDraft& n) { read_groups(f, n.process); }},
    {"umask", kProcess, false, [](const Field& f, NodeDraft& n) { read_umask(f, n.process); }},
    {"rlimits", kProcess, false, [](const Field& f, NodeDraft& n) { read_rlimits(f, n.process); }},
    {"env_file", kProcess, false,
     [](const Field& f, NodeDraft& n) { read_env_file(f, n.process); }},
    {"inherit_env", kProcess, false,
     [](const Field& f, NodeDraft& n) { read_inherit_env(f, n.process); }},
    {"stop_signal", kProcess, false,
     [](const Field& f, NodeDraft& n) { read_stop_signal(f, n.process); }},
    {"kill_mode", kProcess, false,
     [](const Field& f, NodeDraft& n) { read_kill_mode(f, n.process); }},
    {"ready", kProcess, false,
     [](const Field& f, NodeDraft& n) { n.process.ready = read_readiness(f); }},
    {"start_timeout", kProcess, false,
     [](const Field& f, NodeDraft& n) {
       n.process.start_timeout = read_start_timeout(f);
       n.start_timeout_where = f.key_location();
     }},
    {"watchdog", kProcess, false,
     [](const Field& f, NodeDraft& n) {
       n.process.watchdog = f.positive_duration();
       n.watchdog_where = f.key_location();
     }},
    {"output", kProcess, false,
     [](const Field& f, NodeDraft& n) { n.process.output = choose<Output>(f, kOutputs); }},
    {"streams", kProcess, false,
     [](const Field& f, NodeDraft& n) { n.process.streams = choose<Streams>(f, kStreams); }},
    {"memory_max", kProcess, false,
     [](const Field& f, NodeDraft& n) { read_memory_max(f, n.process); }},
    {"cpu_max", kProcess, false, [](const Field& f, NodeDraft& n) { read_cpu_max(f, n.process); }},
    {"pids_max", kProcess, false,
     [](const Field& f, NodeDraft& n) { read_pids_max(f, n.process); }},
    // Read by the list the child is in, which makes the copies.
    {"instances", kProcess, false, [](const Field& f, NodeDraft&) { f.integer(1, kMaxInstances); }},
};

const KeyRule* find_rule(std::string_view name) {
  for (const KeyRule& rule : kKeys) {
    if (rule.name == name) return &rule;
  }
  return nullptr;
}

std::vector<std::string_view> key_names(unsigned kinds, bool deciding_only = false) {
  std::vector<std::string_view> names;
  for (const KeyRule& rule : kKeys) {
    if ((rule.applies_to & kinds) && (!deciding_only || rule.decides_kind)) {
      names.push_back(rule.name);
    }
  }
  return names;
}

std::string quoted_list(const std::vector<std::string_view>& words, std::string_view last) {
  std::vector<std::string> quoted;
  for (std::string_view word : words) quoted.push_back("'" + std::string(word) + "'");
  return join(std::vector<std::string_view>(quoted.begin(), quoted.end()), last);
}

std::string describe_kind(Kind kind) {
  switch (kind) {
    case kProcess:
      return "a process";
    case kSupervisor:
      return "a supervisor (a child with 'children')";
    case kRoot:
      return "the root 'tree'";
    case kDynamicSupervisor:
      return "a dynamic supervisor (its settings go under 'worker')";
    case kWorker:
      return "a worker (a child with 'worker')";
  }
  return "this";
}

std::string describe_kinds(unsigned kinds) {
  if ((kinds & kChild) == kChild) return "children";
  if (kinds == (kDynamicSupervisor | kWorker)) return "workers";
  if (kinds & kProcess) return "processes";
  if (kinds & kSupervisor) return "supervisors";
  return "the root 'tree'";
}

// A dynamic supervisor is a supervisor written under `worker:`; every other
// kind is an in-process worker, whose reader checks the kind.
Kind worker_kind(const Field& worker) {
  const YamlNode kind = worker.node().IsMap() ? worker.node()["kind"] : YamlNode();
  if (kind && kind.IsScalar() && kind.Scalar() == kDynamicSupervisorKind) return kDynamicSupervisor;
  return kWorker;
}

Kind decide_kind(const Field& mapping, const std::vector<Field>& entries) {
  const Field* decider = nullptr;
  Kind kind = kProcess;
  for (const Field& entry : entries) {
    const KeyRule& rule = *find_rule(entry.key());
    if (!rule.decides_kind) continue;
    if (decider) {
      throw ConfigError(entry.key_location(), "'" + entry.key() + "' cannot be combined with '" +
                                                  decider->key() +
                                                  "': a child has exactly one of " +
                                                  quoted_list(key_names(kChild, true), " or "));
    }
    decider = &entry;
    kind =
        entry.key() == "worker" ? worker_kind(entry) : static_cast<Kind>(rule.applies_to & kChild);
  }
  if (!decider) {
    throw ConfigError(locate(mapping.source(), mapping.node()),
                      "child '" + mapping.node()["name"].Scalar() + "' needs one of " +
                          quoted_list(key_names(kChild, true), " or "));
  }
  return kind;
}

// " (to put it under 'env' on line 5, indent it more than 'env')": a key
// that belongs to the empty value written just above it, which YAML read
// as a sibling because both are indented alike.
std::string under_previous_hint(const std::vector<Field>& entries, std::size_t i) {
  if (i == 0) return "";
  const Field& previous = entries[i - 1];
  if (!previous.node().IsNull()) return "";
  const SourceLocation above = previous.key_location();
  const SourceLocation here = entries[i].key_location();
  if (here.line != above.line + 1 || here.column != above.column) return "";
  return " (to put it under '" + previous.key() + "' on line " + std::to_string(above.line) +
         ", indent it more than '" + previous.key() + "')";
}

// What the values of the source refer to while one child is read.
class ReadingScope {
 public:
  ReadingScope(const Source& source, const Variables* variables)
      : source_(source), saved_(source.variables) {
    source_.variables = variables;
  }
  ~ReadingScope() { source_.variables = saved_; }
  ReadingScope(const ReadingScope&) = delete;
  ReadingScope& operator=(const ReadingScope&) = delete;

 private:
  const Source& source_;
  const Variables* saved_;
};

// The copy being read, for {{i}}.
class CopyScope {
 public:
  CopyScope(const Source& source, int instance) : source_(source), saved_(source.instance) {
    source_.instance = instance;
  }
  ~CopyScope() { source_.instance = saved_; }
  CopyScope(const CopyScope&) = delete;
  CopyScope& operator=(const CopyScope&) = delete;

 private:
  const Source& source_;
  int saved_;
};

// Reads a child (or, with `fixed` = kRoot, the root supervisor) in the order
// that gives the most useful first error: misspelt keys, then what kind of
// child it is, then keys that do not fit that kind, then the values. When
// the source collects errors, each key's error is recorded and the others
// are read all the same; `incomplete` then says the node is not whole.
NodeDraft read_node(const Field& mapping, std::optional<Kind> fixed) {
  const Source& source = mapping.source();
  const std::vector<Field> entries = mapping.entries(Field::Labels::plain);
  const unsigned possible = fixed ? static_cast<unsigned>(*fixed) : kChild;
  std::vector<bool> skip(entries.size(), false);
  NodeDraft node;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (find_rule(entries[i].key())) continue;
    skip[i] = true;
    node.incomplete = true;
    attempt(source, [&] {
      const std::string hint = under_previous_hint(entries, i);
      if (hint.empty()) fail_unknown_key(entries[i], key_names(possible));
      throw ConfigError(entries[i].key_location(),
                        "unknown key " + quoted(entries[i].key()) + hint);
    });
  }

  std::vector<Field> known;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!skip[i]) known.push_back(entries[i]);
  }
  if (fixed) {
    node.kind = *fixed;
  } else {
    auto decide = [&] {
      if (!mapping.node()["name"]) {
        throw ConfigError(locate(source, mapping.node()), "a child needs a 'name'");
      }
      node.kind = decide_kind(mapping, known);
    };
    if (node.incomplete) {
      // A misspelt key may be the missing 'name' or 'command': its own
      // error says so; another about what it left out would only repeat it.
      try {
        decide();
      } catch (const ConfigError&) {
        return node;
      }
    } else if (!attempt(source, decide)) {
      node.incomplete = true;
      return node;
    }
  }

  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (skip[i]) continue;
    const Field& entry = entries[i];
    const KeyRule& rule = *find_rule(entry.key());
    if (!(rule.applies_to & node.kind)) {
      skip[i] = true;
      node.incomplete = true;
      attempt(source, [&] {
        throw ConfigError(entry.key_location(), "'" + entry.key() + "' applies only to " +
                                                    describe_kinds(rule.applies_to) + ", not to " +
                                                    describe_kind(node.kind));
      });
    }
  }
  // The env files and env first, wherever they are written: the other
  // values may refer to their variables. Children last: whether they may
  // be significant depends on the supervisor's auto_shutdown, wherever it
  // is written.
  const ReadingScope scope(source, node.kind == kProcess ? &node.variables : nullptr);
  auto read_keys = [&](auto wanted) {
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (skip[i] || !wanted(entries[i].key())) continue;
      if (!attempt(source, [&] { find_rule(entries[i].key())->read(entries[i], node); })) {
        node.incomplete = true;
      }
    }
  };
  read_keys([](const std::string& key) { return key == "env_file"; });
  for (const auto& [name, value] : node.process.file_env) node.variables.set(name, value);
  read_keys([](const std::string& key) { return key == "env"; });
  for (const auto& [name, value] : node.process.env) node.variables.set(name, value);
  read_keys([](const std::string& key) {
    return key != "env_file" && key != "env" && key != "children";
  });
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (skip[i] || entries[i].key() != "children") continue;
    const std::size_t before = error_count(source);
    if (!attempt(source, [&] { find_rule("children")->read(entries[i], node); }) ||
        error_count(source) != before) {
      node.incomplete = true;
    }
  }
  if (node.child.significant && node.child.restart == RestartType::permanent) {
    node.incomplete = true;
    attempt(source, [&] {
      throw ConfigError(node.significant_where,
                        "significant: a permanent child is always restarted, so its end can never "
                        "shut the supervisor down (make it transient or temporary)");
    });
  }
  return node;
}

void check_readiness(const NodeDraft& node) {
  const auto kind = node.process.ready->kind;
  if (node.watchdog_where && kind != Readiness::Kind::notify) {
    throw ConfigError(*node.watchdog_where,
                      "watchdog: needs 'ready: notify' (the child pings with WATCHDOG=1 on "
                      "NOTIFY_SOCKET)");
  }
  if (node.start_timeout_where && kind == Readiness::Kind::none) {
    throw ConfigError(*node.start_timeout_where,
                      "start_timeout: applies only to a child with 'ready' (without it a child "
                      "is ready once it has started)");
  }
}

ChildSpec finish_child(NodeDraft& node, const Field& mapping) {
  node.child.where = locate(mapping.source(), mapping.node());
  if (node.kind == kSupervisor || node.kind == kDynamicSupervisor) {
    if (!node.shutdown_given) node.child.shutdown = Shutdown::infinity();
    node.child.body = std::move(node.supervisor);
  } else if (node.kind == kWorker) {
    node.child.body = std::move(node.worker);
  } else {
    check_readiness(node);
    if (node.process.cwd.empty()) node.process.cwd = mapping.source().base_dir;
    finish_exec(node.exec, node.process);
    node.child.body = std::move(node.process);
  }
  return std::move(node.child);
}

bool is_valid_name(const std::string& name) {
  auto alphanumeric = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (name.empty() || !alphanumeric(name.front())) return false;
  for (char c : name) {
    if (!alphanumeric(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

void read_name(const Field& field, NodeDraft& node) {
  const std::string name = field.text();
  if (!is_valid_name(name)) {
    field.fail_expected("letters, digits, '_', '.' and '-', starting with a letter or digit");
  }
  node.child.name = name;
  node.name_where = field.value_location();
}

void read_shutdown(const Field& field, NodeDraft& node) {
  node.shutdown_given = true;
  const std::string expected = "brutal_kill, infinity or a duration such as 5s";
  if (!field.node().IsScalar()) field.fail_expected(expected);
  const std::string written = field.text();
  if (written == "brutal_kill") {
    node.child.shutdown = Shutdown::brutal_kill();
  } else if (written == "infinity") {
    node.child.shutdown = Shutdown::infinity();
  } else if (!written.empty() && std::isalpha(static_cast<unsigned char>(written.front()))) {
    field.fail_expected(expected, protocol::did_you_mean(written, {"brutal_kill", "infinity"}));
  } else {
    const Duration timeout = field.duration();
    if (timeout <= Duration::zero()) {
      field.fail("must be longer than 0s (write brutal_kill to kill at once)");
    }
    node.child.shutdown = Shutdown::after(timeout);
  }
}

void read_worker_entry(const Field& field, NodeDraft& node) {
  if (node.kind == kDynamicSupervisor) {
    node.supervisor = read_dynamic_supervisor(field);
  } else {
    node.worker = read_worker(field);
  }
}

// The field of a sibling's worker setting, for an error at its place.
Field worker_setting(const Field& element, const char* key) {
  const YamlNode setting = element.node()["worker"][key];
  return Field(element.source(), std::string("worker.") + key, setting, setting);
}

// A health check's `guards` names a process among its siblings; a file
// watch's `target` names a sibling, and a process when it sends a signal.
// Looked up in sets: a supervisor may have thousands of children.
void check_sibling_references(const std::vector<Field>& elements,
                              const std::vector<ChildSpec>& children) {
  std::unordered_set<std::string_view> processes;
  std::unordered_set<std::string_view> names;
  for (const ChildSpec& child : children) {
    if (child.is_process()) processes.insert(child.name);
    names.insert(child.name);
  }
  // Only for the message of an error: the names in order.
  auto listed = [&](bool processes_only) {
    std::vector<std::string_view> among;
    for (const ChildSpec& child : children) {
      if (!processes_only || child.is_process()) among.push_back(child.name);
    }
    return among;
  };
  for (std::size_t i = 0; i < children.size(); ++i) {
    if (!children[i].is_worker()) continue;
    const auto& settings = children[i].worker().settings;
    if (const auto* check = std::get_if<HealthCheckSettings>(&settings)) {
      if (check->guards.empty() || processes.contains(check->guards)) continue;
      worker_setting(elements[i], "guards")
          .fail("'" + check->guards + "' is not a process beside '" + children[i].name + "'" +
                protocol::did_you_mean(check->guards, listed(true)));
    }
    if (const auto* watch = std::get_if<FileWatchSettings>(&settings)) {
      if (watch->target == children[i].name) {
        worker_setting(elements[i], "target")
            .fail("a file watch cannot act on itself; name a sibling");
      }
      if (watch->signal != 0 && !processes.contains(watch->target)) {
        worker_setting(elements[i], "target")
            .fail("'" + watch->target + "' is not a process beside '" + children[i].name +
                  "' (signals go to processes)" +
                  protocol::did_you_mean(watch->target, listed(true)));
      }
      if (!names.contains(watch->target)) {
        worker_setting(elements[i], "target")
            .fail("'" + watch->target + "' is not a child beside '" + children[i].name + "'" +
                  protocol::did_you_mean(watch->target, listed(false)));
      }
    }
  }
}

// The children of one supervisor as they are read, from its own list and
// from the files that list includes.
struct Siblings {
  NodeDraft& node;
  // Where each name was first used.
  std::unordered_map<std::string, SourceLocation> first = {};
  // The element each child read whole was read from, in order.
  std::vector<Field> read = {};
  bool all_whole = true;
};

std::string first_used(const SourceLocation& first, const SourceLocation& here) {
  if (first.file == here.file) return "first used at line " + std::to_string(first.line);
  return "first used at " + first.file + ":" + std::to_string(first.line);
}

// Values in `node` once its aliases are expanded: what one more copy of it
// costs a reader. Nesting is bounded by the document's limits.
std::size_t count_values(const YamlNode& node) {
  std::size_t count = 1;
  if (node.IsMap()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      count += count_values(node.key(i)) + count_values(node.value(i));
    }
  } else if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) count += count_values(node.element(i));
  }
  return count;
}

// How many copies of a process `instances` asks for; 0 without the key.
// The copies beyond the first count against the load's values.
int copies_of(const Field& element) {
  if (!element.node()["instances"]) return 0;
  // 'instances' on what is not a process: read_node says so.
  if (!element.node()["command"] && !element.node()["shell"]) return 0;
  for (const Field& entry : element.entries(Field::Labels::plain)) {
    if (entry.key() != "instances") continue;
    const auto copies = static_cast<std::size_t>(entry.integer(1, kMaxInstances));
    if (LoadContext* context = element.source().context) {
      const std::size_t cost = count_values(element.node()) * (copies - 1);
      if (cost > context->values_left) {
        entry.fail(std::to_string(copies) + " copies of this child take the config past " +
                   std::to_string(kFileLimits.max_values) + " values");
      }
      context->values_left -= cost;
    }
    return static_cast<int>(copies);
  }
  return 0;
}

bool names_its_copies(const Field& element) {
  const YamlNode name = element.node()["name"];
  return name && name.IsScalar() && name.Scalar().find("{{i}}") != std::string::npos;
}

// One child, or one copy (`instance` > 0) of a child with `instances`.
void read_one(const Field& element, int instance, Siblings& siblings) {
  const Source& source = element.source();
  const std::size_t before = error_count(source);
  NodeDraft child = read_node(element, std::nullopt);
  if (child.incomplete || error_count(source) != before) return;
  if (instance > 0 && !names_its_copies(element)) {
    child.child.name += "-" + std::to_string(instance);
  }
  const auto [first, inserted] = siblings.first.emplace(child.child.name, child.name_where);
  if (!inserted) {
    throw ConfigError(child.name_where, "duplicate child name '" + child.child.name + "' (" +
                                            first_used(first->second, child.name_where) + ")");
  }
  // A supervisor whose own keys had errors may not have read its
  // auto_shutdown: the check would only repeat them.
  const NodeDraft& node = siblings.node;
  if (child.child.significant && node.supervisor.auto_shutdown == AutoShutdown::never &&
      !node.incomplete) {
    throw ConfigError(child.significant_where,
                      "significant: the supervisor's auto_shutdown is 'never', so a "
                      "significant child would change nothing (set auto_shutdown to "
                      "any_significant or all_significant on the supervisor)");
  }
  siblings.node.supervisor.children.push_back(finish_child(child, element));
  siblings.read.push_back(element);
}

void read_element(const Field& element, Siblings& siblings) {
  element.require_mapping("a mapping for each child");
  const int copies = copies_of(element);
  if (copies == 0) {
    read_one(element, 0, siblings);
    return;
  }
  const Source& source = element.source();
  for (int instance = 1; instance <= copies; ++instance) {
    const std::size_t before = error_count(source);
    const CopyScope copy(source, instance);
    read_one(element, instance, siblings);
    // The other copies would only repeat the error.
    if (error_count(source) != before) return;
  }
}

void read_child_list(const Field& list, Siblings& siblings) {
  if (list.node().IsNull())
    list.fail("expected a list of children, found nothing (write [] for none)");
  list.require_list("a list of children");
  for (const Field& element : list.elements()) {
    const Source& source = element.source();
    const std::size_t before = error_count(source);
    const bool whole = attempt(source, [&] {
      if (is_include(element)) {
        read_included(element, [&](const Field& children) { read_child_list(children, siblings); });
      } else {
        read_element(element, siblings);
      }
    });
    if (!whole || error_count(source) != before) siblings.all_whole = false;
  }
}

void read_children(const Field& field, NodeDraft& node) {
  Siblings siblings{node};
  read_child_list(field, siblings);
  // A big tree's specs are kept for its whole life: no room to spare.
  node.supervisor.children.shrink_to_fit();
  // Sibling references name children that may be missing only because they
  // had errors: checked when every child was read whole.
  if (siblings.all_whole) check_sibling_references(siblings.read, node.supervisor.children);
}

}  // namespace

SupervisorSpec read_tree(const Field& tree) {
  if (tree.node().IsNull()) {
    tree.fail("expected a mapping with the root supervisor's children, found nothing");
  }
  tree.require_mapping("a mapping with the root supervisor's children");
  return read_node(tree, kRoot).supervisor;
}

ChildSpec read_child(const Field& mapping) {
  mapping.require_mapping("a mapping with the child's 'name' and settings");
  for (const Field& entry : mapping.entries(Field::Labels::plain)) {
    if (entry.key() == "instances") {
      throw ConfigError(entry.key_location(),
                        "instances: a child spec starts one child; start each copy under its "
                        "own name");
    }
  }
  NodeDraft child = read_node(mapping, std::nullopt);
  if (child.incomplete) return {};  // its errors are recorded
  if (child.child.significant) {
    throw ConfigError(child.significant_where,
                      "significant: a dynamic supervisor has no auto_shutdown, so a significant "
                      "child would change nothing");
  }
  return finish_child(child, mapping);
}

}  // namespace otpd::config
