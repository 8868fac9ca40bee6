#include "config/exec_reader.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "config/accounts.hpp"
#include "config/env_file.hpp"
#include "config/load_context.hpp"
#include "config/signals.hpp"
#include "config/text_file.hpp"

namespace otpd::config {
namespace {

// The largest id: (uid_t)-1 means "unchanged" to the set*id calls.
constexpr long long kHighestId = 4294967294LL;

bool all_digits(const std::string& text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool running_as_root() {
  return geteuid() == 0;
}

// The database errors of NSS (an unreachable LDAP server, say) are config
// errors too: otpd cannot know who the child should be.
template <typename Lookup>
auto looked_up(const Field& field, Lookup lookup) {
  try {
    return lookup();
  } catch (const std::runtime_error& error) {
    field.fail(error.what());
  }
}

std::string own_user() {
  const unsigned uid = geteuid();
  const auto entry = find_user(uid);
  return entry ? entry->name + " (uid " + std::to_string(uid) + ")" : "uid " + std::to_string(uid);
}

std::string own_group() {
  const unsigned gid = getegid();
  const auto name = group_name(gid);
  return name ? *name + " (gid " + std::to_string(gid) + ")" : "gid " + std::to_string(gid);
}

struct ResolvedGroup {
  unsigned gid = 0;
  std::string shown;  // the name, or the number when it has none
};

ResolvedGroup resolve_group(const Field& field) {
  const std::string written = field.non_empty_text();
  if (all_digits(written)) {
    const auto gid = static_cast<unsigned>(field.integer(0, kHighestId));
    const auto name = looked_up(field, [&] { return group_name(gid); });
    return {gid, name.value_or(written)};
  }
  const auto gid = looked_up(field, [&] { return find_group(written); });
  if (!gid) field.fail("unknown group '" + written + "'");
  return {*gid, written};
}

// --- rlimits ------------------------------------------------------------------

enum class Unit { bytes, count };

struct Resource {
  std::string_view name;
  int number;
  Unit unit;
};

constexpr std::array<Resource, 16> kResources{{
    {"as", RLIMIT_AS, Unit::bytes},
    {"core", RLIMIT_CORE, Unit::bytes},
    {"cpu", RLIMIT_CPU, Unit::count},  // seconds
    {"data", RLIMIT_DATA, Unit::bytes},
    {"fsize", RLIMIT_FSIZE, Unit::bytes},
    {"locks", RLIMIT_LOCKS, Unit::count},
    {"memlock", RLIMIT_MEMLOCK, Unit::bytes},
    {"msgqueue", RLIMIT_MSGQUEUE, Unit::bytes},
    {"nice", RLIMIT_NICE, Unit::count},
    {"nofile", RLIMIT_NOFILE, Unit::count},
    {"nproc", RLIMIT_NPROC, Unit::count},
    {"rss", RLIMIT_RSS, Unit::bytes},
    {"rtprio", RLIMIT_RTPRIO, Unit::count},
    {"rttime", RLIMIT_RTTIME, Unit::count},  // microseconds
    {"sigpending", RLIMIT_SIGPENDING, Unit::count},
    {"stack", RLIMIT_STACK, Unit::bytes},
}};

static_assert(RLIM_INFINITY == ResourceLimit::unlimited);

std::vector<std::string_view> resource_names() {
  std::vector<std::string_view> names;
  for (const Resource& resource : kResources) names.push_back(resource.name);
  return names;
}

// A whole number, `unlimited` (or `infinity`), and for sizes a K, M, G or T
// suffix (powers of 1024).
std::uint64_t read_limit(const Field& field, Unit unit) {
  const std::string expected = unit == Unit::bytes ? "a size such as 8388608 or 8M, or unlimited"
                                                   : "a whole number or unlimited";
  if (!field.node().IsScalar()) field.fail_expected(expected);
  std::string written = field.text();
  if (written == "unlimited" || written == "infinity") return ResourceLimit::unlimited;
  std::uint64_t multiplier = 1;
  if (unit == Unit::bytes && !written.empty()) {
    constexpr std::string_view suffixes = "KMGT";
    const auto at = suffixes.find(static_cast<char>(std::toupper(written.back())));
    if (at != std::string_view::npos) {
      multiplier = std::uint64_t{1} << (10 * (at + 1));
      written.pop_back();
    }
  }
  if (!all_digits(written)) field.fail_expected(expected);
  std::uint64_t value = 0;
  for (char c : written) {
    const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
    if (value > (ResourceLimit::unlimited - 1 - digit) / 10) field.fail("too large");
    value = value * 10 + digit;
  }
  if (value > (ResourceLimit::unlimited - 1) / multiplier) field.fail("too large");
  return value * multiplier;
}

std::string shown_limit(std::uint64_t value) {
  return value == ResourceLimit::unlimited ? "unlimited" : std::to_string(value);
}

ResourceLimit read_resource(const Field& field, const Resource& resource) {
  ResourceLimit limit{resource.number, std::string(resource.name), 0, 0};
  if (!field.node().IsMap()) {
    limit.soft = limit.hard = read_limit(field, resource.unit);
    return limit;
  }
  bool soft = false;
  bool hard = false;
  for (const Field& entry : field.entries()) {
    if (entry.key() == "soft") {
      limit.soft = read_limit(entry, resource.unit);
      soft = true;
    } else if (entry.key() == "hard") {
      limit.hard = read_limit(entry, resource.unit);
      hard = true;
    } else {
      fail_unknown_key(entry, {"soft", "hard"});
    }
  }
  if (!soft || !hard) {
    field.fail(std::string("needs both soft and hard, found only ") + (soft ? "soft" : "hard") +
               " (a single value sets both)");
  }
  if (limit.soft > limit.hard) {
    field.fail("the soft limit (" + shown_limit(limit.soft) + ") is above the hard limit (" +
               shown_limit(limit.hard) + ")");
  }
  return limit;
}

// --- env_file -----------------------------------------------------------------

// An env file is a handful of variables; anything larger is a mistake.
constexpr std::size_t kLargestEnvFile = std::size_t{1} << 20;

std::string read_env_text(const Field& field, const std::string& path) {
  std::string error;
  std::optional<std::string> text = read_text_file(path, kLargestEnvFile, error);
  if (!text) field.fail("cannot read " + path + ": " + error);
  // Every child may name the same large file, many times over.
  if (LoadContext* context = field.source().context) {
    if (text->size() > context->env_bytes_left) {
      field.fail("the env files of this config hold more than " +
                 std::to_string(LoadContext::kMaxEnvFileBytes >> 20) + " MiB together");
    }
    context->env_bytes_left -= text->size();
  }
  return std::move(*text);
}

void read_one_env_file(const Field& field, ProcessSpec& process) {
  std::filesystem::path path(field.non_empty_text());
  if (path.is_relative()) path = std::filesystem::path(field.source().base_dir.str()) / path;
  const std::string file = path.lexically_normal().string();
  const EnvVariables variables = parse_env_file(read_env_text(field, file), file);
  process.file_env.insert(process.file_env.end(), variables.begin(), variables.end());
  process.env_files.push_back(file);
}

}  // namespace

void read_user(const Field& field, ProcessSpec& process, ExecDraft& draft) {
  const std::string written = field.non_empty_text();
  std::optional<UserEntry> entry;
  unsigned uid = 0;
  if (all_digits(written)) {
    uid = static_cast<unsigned>(field.integer(0, kHighestId));
    entry = looked_up(field, [&] { return find_user(uid); });
  } else {
    entry = looked_up(field, [&] { return find_user(written); });
    if (!entry) field.fail("unknown user '" + written + "'");
    uid = entry->uid;
  }
  if (!running_as_root() && uid != geteuid()) {
    field.fail("only root can run a child as another user; otpd runs as " + own_user());
  }
  Credentials& credentials = process.credentials.edit();
  credentials.uid = uid;
  credentials.user = entry ? entry->name : written;
  credentials.login = entry ? entry->name : "";
  credentials.home = entry ? entry->home : "";
  credentials.shell = entry ? entry->shell : "";
  draft.primary_gid = entry ? std::optional<unsigned>(entry->gid) : std::nullopt;
  draft.user_where = field.value_location();
}

void read_group(const Field& field, ProcessSpec& process) {
  const ResolvedGroup group = resolve_group(field);
  if (!running_as_root() && group.gid != getegid()) {
    field.fail("only root can run a child in another group; otpd runs in " + own_group());
  }
  process.credentials.edit().gid = group.gid;
  process.credentials.edit().group = group.shown;
}

void read_groups(const Field& field, ProcessSpec& process) {
  field.require_list("a list of group names or numbers");
  std::vector<unsigned> gids;
  for (const Field& element : field.elements()) {
    const unsigned gid = resolve_group(element).gid;
    if (std::find(gids.begin(), gids.end(), gid) == gids.end()) gids.push_back(gid);
  }
  const long most = sysconf(_SC_NGROUPS_MAX);
  if (most > 0 && static_cast<long>(gids.size()) > most) {
    field.fail("at most " + std::to_string(most) + " supplementary groups, found " +
               std::to_string(gids.size()));
  }
  if (!running_as_root()) {
    // Only root may call setgroups; the list can only repeat otpd's own.
    std::vector<unsigned> own = own_groups();
    std::vector<unsigned> wanted = gids;
    std::sort(own.begin(), own.end());
    own.erase(std::unique(own.begin(), own.end()), own.end());
    std::sort(wanted.begin(), wanted.end());
    if (wanted != own) field.fail("only root can set the supplementary groups of a child");
    return;
  }
  process.credentials.edit().groups = std::move(gids);
}

void read_umask(const Field& field, ProcessSpec& process) {
  const std::string expected = "an octal mode such as \"0027\" (digits 0-7, at most 0777)";
  if (!field.node().IsScalar()) field.fail_expected(expected);
  const std::string written = field.text();
  if (written.empty() || written.size() > 4 ||
      !std::all_of(written.begin(), written.end(), [](char c) { return c >= '0' && c <= '7'; })) {
    field.fail_expected(expected);
  }
  const unsigned mode = static_cast<unsigned>(std::stoul(written, nullptr, 8));
  if (mode > 0777) field.fail_expected(expected);
  process.umask = mode;
}

void read_rlimits(const Field& field, ProcessSpec& process) {
  field.require_mapping("a mapping of resource: limit, such as {nofile: 4096}");
  for (const Field& entry : field.entries()) {
    const std::string name = entry.key();
    const auto* resource =
        std::find_if(kResources.begin(), kResources.end(),
                     [&](const Resource& candidate) { return candidate.name == name; });
    if (resource == kResources.end()) {
      const std::vector<std::string_view> names = resource_names();
      std::string hint = protocol::did_you_mean(name, names);
      if (hint.empty()) hint = " (valid: " + join(names) + ")";
      throw ConfigError(entry.key_location(), "rlimits: unknown resource '" + name + "'" + hint);
    }
    process.rlimits.push_back(read_resource(entry, *resource));
  }
}

void read_env_file(const Field& field, ProcessSpec& process) {
  if (field.node().IsSequence()) {
    for (const Field& element : field.elements()) read_one_env_file(element, process);
    return;
  }
  if (!field.node().IsScalar()) field.fail_expected("a path or a list of paths");
  read_one_env_file(field, process);
}

void read_inherit_env(const Field& field, ProcessSpec& process) {
  static constexpr std::array<Choice<bool>, 2> kChoices{{{"true", true}, {"false", false}}};
  process.inherit_env = choose<bool>(field, kChoices);
}

int read_signal(const Field& field) {
  const std::string expected = "a signal such as SIGTERM, TERM or 15";
  if (!field.node().IsScalar()) field.fail_expected(expected);
  const std::string written = field.non_empty_text();
  const int signo = signal_number(written);
  if (signo == 0) field.fail_expected(expected, signal_suggestion(written));
  return signo;
}

void read_stop_signal(const Field& field, ProcessSpec& process) {
  process.stop_signal = read_signal(field);
}

void read_kill_mode(const Field& field, ProcessSpec& process) {
  static constexpr std::array<Choice<KillMode>, 2> kModes{{
      {"group", KillMode::group},
      {"process", KillMode::process},
  }};
  process.kill_mode = choose<KillMode>(field, kModes);
}

void finish_exec(const ExecDraft& draft, ProcessSpec& process) {
  // Without root, a user can only be otpd's own: there is nothing to switch.
  // Read first: a child without `user` keeps no box of credentials.
  if (!process.credentials->uid || !running_as_root()) return;
  Credentials& credentials = process.credentials.edit();
  if (!credentials.gid) {
    if (!draft.primary_gid) {
      throw ConfigError(draft.user_where,
                        "user: uid " + credentials.user +
                            " has no entry in the user database, hence no primary group: "
                            "name its 'group' too");
    }
    credentials.gid = *draft.primary_gid;
    credentials.group = std::to_string(*credentials.gid);
    try {
      if (auto name = group_name(*credentials.gid)) credentials.group = *name;
    } catch (const std::runtime_error&) {
      // Only the messages use the name; the number will do.
    }
  }
  if (!credentials.groups) {
    // A uid without an entry belongs to no group beyond its own: otpd's
    // (root's) supplementary groups must not reach it.
    credentials.groups = credentials.login.empty() ? std::vector<unsigned>{}
                                                   : groups_of(credentials.login, *credentials.gid);
  }
}

}  // namespace otpd::config
