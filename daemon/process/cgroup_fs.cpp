#include "process/cgroup_fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <thread>

namespace otpd::process::cgroupfs {
namespace {

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      parts.push_back(text.substr(start));
      break;
    }
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// mountinfo writes a space, tab, newline and backslash as \040, \011, \012, \134.
std::string unescape(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      const std::string_view digits = field.substr(i + 1, 3);
      int value = 0;
      auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value, 8);
      if (error == std::errc{} && end == digits.data() + digits.size()) {
        out += static_cast<char>(value);
        i += 3;
        continue;
      }
    }
    out += field[i];
  }
  return out;
}

struct Mount {
  std::string root;  // the subtree of the hierarchy shown at the mount point
  std::string point;
  bool v2 = false;
  std::vector<std::string> controllers;  // v1: those named in the super options
};

std::vector<Mount> cgroup_mounts(std::string_view mountinfo) {
  std::vector<Mount> mounts;
  for (std::string_view line : split(mountinfo, '\n')) {
    const auto fields = split(line, ' ');
    std::size_t dash = 0;
    for (std::size_t i = 6; i < fields.size(); ++i) {
      if (fields[i] == "-") {
        dash = i;
        break;
      }
    }
    if (dash == 0 || dash + 1 >= fields.size()) continue;
    const std::string_view type = fields[dash + 1];
    if (type != "cgroup2" && type != "cgroup") continue;
    Mount mount;
    mount.root = unescape(fields[3]);
    mount.point = unescape(fields[4]);
    mount.v2 = type == "cgroup2";
    if (!mount.v2 && dash + 3 < fields.size()) {
      for (std::string_view option : split(fields[dash + 3], ',')) {
        if (option != "rw" && option != "ro" && option.find('=') == std::string_view::npos) {
          mount.controllers.emplace_back(option);
        }
      }
    }
    mounts.push_back(std::move(mount));
  }
  return mounts;
}

// The directory of `path` (a cgroup as /proc/self/cgroup names it) under a
// mount that shows the subtree `root`; empty when it is not in that subtree.
std::string own_dir(const Mount& mount, std::string_view path) {
  constexpr std::string_view deleted = " (deleted)";
  if (path.empty() || path.front() != '/') return {};
  if (path.size() >= deleted.size() && path.substr(path.size() - deleted.size()) == deleted) {
    return {};
  }
  std::string_view below;
  if (mount.root == "/") {
    below = path;
  } else if (path == mount.root) {
    below = "/";
  } else if (path.size() > mount.root.size() && path.substr(0, mount.root.size()) == mount.root &&
             path[mount.root.size()] == '/') {
    below = path.substr(mount.root.size());
  } else {
    return {};
  }
  if (below == "/") return mount.point;
  return mount.point + std::string(below);
}

std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

std::string limit_number(std::uint64_t value, const char* unlimited) {
  return value == config::CgroupLimits::unlimited ? unlimited : std::to_string(value);
}

}  // namespace

Layout parse_layout(std::string_view mountinfo, std::string_view proc_cgroup) {
  std::optional<std::string> v2_path;
  std::map<std::string, std::string> v1_paths;
  for (std::string_view line : split(proc_cgroup, '\n')) {
    const std::size_t first = line.find(':');
    const std::size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const std::string_view id = line.substr(0, first);
    const std::string_view controllers = line.substr(first + 1, second - first - 1);
    const std::string path(line.substr(second + 1));
    if (id == "0" && controllers.empty()) {
      v2_path = path;
      continue;
    }
    for (std::string_view controller : split(controllers, ',')) {
      if (!controller.empty()) v1_paths[std::string(controller)] = path;
    }
  }

  Layout layout;
  for (const Mount& mount : cgroup_mounts(mountinfo)) {
    if (mount.v2) {
      if (!v2_path) continue;
      Hierarchy found{mount.point, own_dir(mount, *v2_path)};
      // The first mount that shows otpd's cgroup; else the first at all.
      if (!layout.v2 || (layout.v2->own.empty() && !found.own.empty())) layout.v2 = found;
      continue;
    }
    for (const std::string& controller : mount.controllers) {
      auto path = v1_paths.find(controller);
      if (path == v1_paths.end()) continue;
      Hierarchy found{mount.point, own_dir(mount, path->second)};
      auto [existing, added] = layout.v1.emplace(controller, found);
      if (!added && existing->second.own.empty() && !found.own.empty()) existing->second = found;
    }
  }
  return layout;
}

Layout read_layout() {
  const auto mountinfo = read_file("/proc/self/mountinfo");
  const auto cgroup = read_file("/proc/self/cgroup");
  if (!mountinfo || !cgroup) return {};
  return parse_layout(*mountinfo, *cgroup);
}

namespace {

std::optional<std::string> read_to_end(const std::string& path, int* error, bool one_record) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (error != nullptr) *error = errno;
    return std::nullopt;
  }
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (error != nullptr) *error = errno;
      close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (one_record && static_cast<std::size_t>(n) < sizeof buffer) break;
  }
  close(fd);
  return text;
}

}  // namespace

std::optional<std::string> read_file(const std::string& path, int* error) {
  return read_to_end(path, error, /*one_record=*/false);
}

std::optional<std::string> read_record(const std::string& path, int* error) {
  return read_to_end(path, error, /*one_record=*/true);
}

int write_file(const std::string& path, std::string_view text) {
  // O_TRUNC as a shell's `>` does: cgroupfs ignores it, a plain file (in
  // tests) is replaced rather than overwritten in part.
  const int fd = open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t n;
  while ((n = write(fd, text.data(), text.size())) < 0 && errno == EINTR) {
  }
  const int error = n < 0 ? errno : n == static_cast<ssize_t>(text.size()) ? 0 : EIO;
  close(fd);
  return error;
}

std::optional<std::uint64_t> keyed_value(std::string_view text, std::string_view key) {
  for (std::string_view line : split(text, '\n')) {
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ' ') {
      continue;
    }
    const std::string_view number = line.substr(key.size() + 1);
    std::uint64_t value = 0;
    auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (error != std::errc{}) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> read_keyed(const std::string& path, std::string_view key) {
  const auto text = read_record(path);
  if (!text) return std::nullopt;
  return keyed_value(*text, key);
}

std::vector<pid_t> read_pids(const std::string& procs_file) {
  std::vector<pid_t> pids;
  const auto text = read_file(procs_file);
  if (!text) return pids;
  for (std::string_view line : split(*text, '\n')) {
    pid_t pid = 0;
    auto [end, error] = std::from_chars(line.data(), line.data() + line.size(), pid);
    if (error == std::errc{} && pid > 0) pids.push_back(pid);
  }
  return pids;
}

std::vector<std::string> read_words(const std::string& path) {
  std::vector<std::string> words;
  const auto text = read_file(path);
  if (!text) return words;
  for (std::string_view line : split(*text, '\n')) {
    for (std::string_view word : split(line, ' ')) {
      if (!word.empty()) words.emplace_back(word);
    }
  }
  return words;
}

bool has_word(const std::string& path, std::string_view word) {
  for (const std::string& found : read_words(path)) {
    if (found == word) return true;
  }
  return false;
}

std::string dir_name(std::string_view child_name) {
  constexpr std::array<std::string_view, 3> v1_files{"tasks", "notify_on_release", "release_agent"};
  bool clash = child_name.find('.') != std::string_view::npos;
  for (std::string_view file : v1_files) clash = clash || child_name == file;
  return clash ? "_" + std::string(child_name) : std::string(child_name);
}

std::string relative_dir(std::string_view tree_path) {
  std::string out;
  for (std::string_view part : split(tree_path, '/')) {
    if (part.empty()) continue;
    if (!out.empty()) out += '/';
    out += dir_name(part);
  }
  return out;
}

std::string instance_name(std::string_view socket) {
  std::string escaped;
  std::string_view path = socket;
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  for (std::size_t i = 0; i < path.size(); ++i) {
    const auto c = static_cast<unsigned char>(path[i]);
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == ':' || (c == '.' && i > 0);
    if (c == '/') {
      escaped += '-';
    } else if (plain) {
      escaped += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      escaped += hex;
    }
  }
  // A cgroup's name is a file name: at most 255 bytes.
  if (escaped.empty() || escaped.size() > 200) {
    char hex[20];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a(socket)));
    return std::string("otpd-") + hex;
  }
  return "otpd-" + escaped;
}

std::string v2_memory(std::uint64_t bytes) {
  return limit_number(bytes, "max");
}

std::string v2_cpu(const config::CgroupLimits::Cpu& cpu) {
  return limit_number(cpu.quota, "max") + " " + std::to_string(cpu.period);
}

std::string v2_pids(std::uint64_t count) {
  return limit_number(count, "max");
}

const char* name_of(Controller controller) {
  switch (controller) {
    case Controller::memory:
      return "memory";
    case Controller::cpu:
      return "cpu";
    case Controller::pids:
      return "pids";
  }
  return "unknown";
}

bool needs(const config::CgroupLimits& limits, Controller controller) {
  switch (controller) {
    case Controller::memory:
      return limits.memory_max.has_value();
    case Controller::cpu:
      return limits.cpu_max.has_value();
    case Controller::pids:
      return limits.pids_max.has_value();
  }
  return false;
}

const char* key_of(Controller controller) {
  switch (controller) {
    case Controller::memory:
      return "memory_max";
    case Controller::cpu:
      return "cpu_max";
    case Controller::pids:
      return "pids_max";
  }
  return "unknown";
}

std::string limit_text(const config::CgroupLimits& limits, Controller controller) {
  std::string value = "unset";
  switch (controller) {
    case Controller::memory:
      if (limits.memory_max) value = config::format_memory(*limits.memory_max);
      break;
    case Controller::cpu:
      if (limits.cpu_max) value = config::format_cpu(*limits.cpu_max);
      break;
    case Controller::pids:
      if (limits.pids_max) value = v2_pids(*limits.pids_max);
      break;
  }
  return std::string(key_of(controller)) + " " + value;
}

int write_limit(const std::string& dir, bool v1, const config::CgroupLimits& limits,
                Controller controller, std::string& file) {
  auto put = [&](const char* name, const std::string& value) {
    file = dir + "/" + name;
    return write_file(file, value);
  };
  switch (controller) {
    case Controller::memory:
      if (!limits.memory_max) return 0;
      return v1 ? put("memory.limit_in_bytes", limit_number(*limits.memory_max, "-1"))
                : put("memory.max", v2_memory(*limits.memory_max));
    case Controller::cpu: {
      if (!limits.cpu_max) return 0;
      if (!v1) return put("cpu.max", v2_cpu(*limits.cpu_max));
      // The period first: the quota is checked against it.
      if (int error = put("cpu.cfs_period_us", std::to_string(limits.cpu_max->period))) {
        return error;
      }
      return put("cpu.cfs_quota_us", limit_number(limits.cpu_max->quota, "-1"));
    }
    case Controller::pids:
      if (!limits.pids_max) return 0;
      return put("pids.max", v2_pids(*limits.pids_max));
  }
  return 0;
}

std::string oom_file(const std::string& dir, bool v1) {
  return dir + (v1 ? "/memory.oom_control" : "/memory.events");
}

int make_dirs(const std::string& base, std::string_view relative) {
  std::string dir = base;
  for (std::string_view part : split(relative, '/')) {
    if (part.empty()) continue;
    dir += '/';
    dir += part;
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return errno;
  }
  return 0;
}

namespace {

void remove_empty_parents(std::string dir, const std::string& stop) {
  // Never above `stop`, and nothing without one.
  if (stop.empty() || dir.compare(0, stop.size() + 1, stop + "/") != 0) return;
  for (;;) {
    const std::size_t slash = dir.rfind('/');
    if (slash == std::string::npos || slash == 0) return;
    dir.resize(slash);
    if (dir.size() <= stop.size() || rmdir(dir.c_str()) != 0) return;
  }
}

}  // namespace

bool remove_leaf(const std::string& dir, const std::string& stop) {
  if (rmdir(dir.c_str()) != 0 && errno != ENOENT) return false;
  remove_empty_parents(dir, stop);
  return true;
}

void gather_statistics(const std::string& dir) {
  static_cast<void>(read_record(dir + "/cpu.stat"));
}

bool remove_tree(const std::string& dir, const std::string& stop) {
  // Most cgroups have none below them: no need to list their many files.
  if (rmdir(dir.c_str()) == 0 || errno == ENOENT) {
    if (!stop.empty()) remove_empty_parents(dir, stop);
    return true;
  }
  if (DIR* listing = opendir(dir.c_str())) {
    std::vector<std::string> below;
    while (const dirent* entry = readdir(listing)) {
      const std::string_view name = entry->d_name;
      if (name == "." || name == "..") continue;
      if (entry->d_type == DT_DIR) below.push_back(dir + "/" + std::string(name));
    }
    closedir(listing);
    for (const std::string& child : below) remove_tree(child);
  }
  if (rmdir(dir.c_str()) != 0 && errno != ENOENT) return false;
  if (!stop.empty()) remove_empty_parents(dir, stop);
  return true;
}

std::vector<pid_t> pids_below(const std::string& dir) {
  std::vector<pid_t> pids = read_pids(dir + "/cgroup.procs");
  if (DIR* listing = opendir(dir.c_str())) {
    std::vector<std::string> below;
    while (const dirent* entry = readdir(listing)) {
      const std::string_view name = entry->d_name;
      if (name == "." || name == "..") continue;
      if (entry->d_type == DT_DIR) below.push_back(dir + "/" + std::string(name));
    }
    closedir(listing);
    for (const std::string& child : below) {
      const std::vector<pid_t> more = pids_below(child);
      pids.insert(pids.end(), more.begin(), more.end());
    }
  }
  return pids;
}

bool wait_empty(const std::string& dir, std::chrono::milliseconds patience) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  const auto empty = [&dir] {
    const auto populated = read_keyed(dir + "/cgroup.events", "populated");
    return populated ? *populated == 0 : pids_below(dir).empty();
  };
  // The kernel rewrites cgroup.events when the cgroup empties, which inotify
  // reports as a modification. The watch comes before the first look, so an
  // emptying in between still wakes the wait.
  const int events = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (events >= 0 && inotify_add_watch(events, (dir + "/cgroup.events").c_str(), IN_MODIFY) >= 0) {
    for (;;) {
      if (empty()) {
        ::close(events);
        return true;
      }
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        ::close(events);
        return false;
      }
      pollfd changed{.fd = events, .events = POLLIN, .revents = 0};
      // At most a minute at a time, so that any patience fits poll's int.
      const auto timeout = std::min<std::chrono::milliseconds::rep>(left.count(), 60'000);
      const int ready = ::poll(&changed, 1, static_cast<int>(timeout));
      if (ready < 0 && errno != EINTR) break;  // looked at in turns instead
      alignas(inotify_event) char buffer[4096];
      while (::read(events, buffer, sizeof buffer) > 0) {
      }
    }
  }
  // No inotify, or no cgroup.events (a cgroup v1 hierarchy): looked at in
  // turns, less and less often.
  if (events >= 0) ::close(events);
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    if (empty()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

}  // namespace otpd::process::cgroupfs
