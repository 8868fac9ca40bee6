#include "process/proc_stat.hpp"

#include <dirent.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <string_view>

#include "process/cgroup_fs.hpp"

namespace otpd::process {
namespace {

template <typename T>
bool number(std::string_view text, T& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc{} && end == text.data() + text.size();
}

}  // namespace

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  const auto text = cgroupfs::read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  const std::size_t close = text->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::string_view rest = std::string_view(*text).substr(close + 1);
  ProcStat stat;
  int field = 2;
  while (!rest.empty()) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const std::size_t end = std::min(rest.find(' '), rest.size());
    const std::string_view word = rest.substr(0, end);
    rest.remove_prefix(end);
    if (word.empty()) break;
    ++field;
    if (field == 3) stat.state = word.front();
    if (field == 4 && !number(word, stat.parent)) return std::nullopt;
    if (field == 5 && !number(word, stat.group)) return std::nullopt;
    if (field == 22) return number(word, stat.start) ? std::optional(stat) : std::nullopt;
  }
  return std::nullopt;
}

std::string process_name(pid_t pid) {
  auto text = cgroupfs::read_file("/proc/" + std::to_string(pid) + "/comm");
  if (!text) return {};
  while (!text->empty() && text->back() == '\n') text->pop_back();
  return *text;
}

std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> children;
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(tasks.c_str()), closedir);
  if (!dir) return children;
  while (const dirent* entry = readdir(dir.get())) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    const auto text = cgroupfs::read_file(tasks + "/" + entry->d_name + "/children");
    if (!text) continue;
    std::string_view rest = *text;
    while (!rest.empty()) {
      const std::size_t end = std::min(rest.find(' '), rest.size());
      pid_t child = 0;
      if (number(rest.substr(0, end), child) && child > 0) children.push_back(child);
      rest.remove_prefix(std::min(end + 1, rest.size()));
    }
  }
  return children;
}

}  // namespace otpd::process
