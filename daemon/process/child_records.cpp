#include "process/child_records.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>

#include "process/cgroup_fs.hpp"
#include "process/proc_stat.hpp"

namespace otpd::process {
namespace {

constexpr std::string_view kHeader = "otpd-children 1";
// Rewritten once it holds this many lines and four times what runs.
constexpr std::size_t kCompactAfter = 4096;

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    // A line without its newline was cut by a crash: not a record.
    if (end == std::string_view::npos) break;
    lines.push_back(text.substr(0, end));
    text.remove_prefix(end + 1);
  }
  return lines;
}

template <typename T>
bool number(std::string_view text, T& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc{} && end == text.data() + text.size();
}

int pidfd_open(pid_t pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

int pidfd_send_signal(int pidfd, int signo) {
  return static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, signo, nullptr, 0));
}

bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

ChildRecords::ChildRecords(std::string file) : file_(std::move(file)) {}

ChildRecords::~ChildRecords() {
  if (fd_ >= 0) ::close(fd_);
}

std::string ChildRecords::boot_id() {
  auto text = cgroupfs::read_file("/proc/sys/kernel/random/boot_id");
  if (!text) return "unknown";
  while (!text->empty() && (text->back() == '\n' || text->back() == ' ')) text->pop_back();
  return *text;
}

std::optional<std::uint64_t> ChildRecords::start_time(pid_t pid) {
  const auto stat = read_proc_stat(pid);
  if (!stat) return std::nullopt;
  return stat->start;
}

std::vector<ChildRecords::Record> ChildRecords::running_in(std::string_view text,
                                                           std::string_view boot_id) {
  const auto lines = lines_of(text);
  if (lines.size() < 2 || lines[0] != kHeader || lines[1] != "boot " + std::string(boot_id)) {
    return {};
  }
  std::map<pid_t, std::uint64_t> running;  // in pid order, for a stable result
  for (std::size_t i = 2; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (line.size() < 5 || (line[0] != '+' && line[0] != '-') || line[1] != ' ') continue;
    const std::string_view fields = line.substr(2);
    const std::size_t space = fields.find(' ');
    if (space == std::string_view::npos) continue;
    Record record;
    if (!number(fields.substr(0, space), record.pid) || record.pid <= 1 ||
        !number(fields.substr(space + 1), record.start)) {
      continue;
    }
    if (line[0] == '+') {
      running[record.pid] = record.start;
    } else if (auto found = running.find(record.pid);
               found != running.end() && found->second == record.start) {
      running.erase(found);
    }
  }
  std::vector<Record> records;
  for (const auto& [pid, start] : running) records.push_back({pid, start});
  return records;
}

ChildRecords::Ended ChildRecords::end_leftovers(std::chrono::milliseconds patience) {
  Ended result;
  const auto text = cgroupfs::read_file(file_);
  if (!text) return result;
  std::vector<int> killed;
  for (const Record& record : running_in(*text, boot_id())) {
    // The pidfd first, then the check: if the start time still matches
    // once the pidfd is open, the pidfd names the recorded process.
    const int pidfd = pidfd_open(record.pid);
    if (pidfd < 0) continue;  // gone
    const auto stat = read_proc_stat(record.pid);
    if (!stat || stat->start != record.start) {
      if (stat) ++result.skipped;
      ::close(pidfd);
      continue;
    }
    // It still leads its group (it is alive): the group is its own.
    if (stat->group == record.pid) kill(-record.pid, SIGKILL);
    if (pidfd_send_signal(pidfd, SIGKILL) == 0) {
      ++result.ended;
      killed.push_back(pidfd);
    } else {
      ::close(pidfd);
    }
  }
  // A pidfd becomes readable when its process has exited.
  const auto deadline = std::chrono::steady_clock::now() + patience;
  std::vector<pollfd> waiting;
  for (int pidfd : killed) waiting.push_back({pidfd, POLLIN, 0});
  while (!waiting.empty()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    if (poll(waiting.data(), waiting.size(), static_cast<int>(left.count())) < 0 &&
        errno != EINTR) {
      break;
    }
    std::vector<pollfd> still;
    for (const pollfd& entry : waiting) {
      if (entry.revents == 0) still.push_back({entry.fd, POLLIN, 0});
    }
    waiting = std::move(still);
  }
  result.remaining = waiting.size();
  for (int pidfd : killed) ::close(pidfd);
  unlink(file_.c_str());
  return result;
}

bool ChildRecords::open(std::string& error) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    error = "cannot write " + file_ + ": " + std::strerror(errno);
    return false;
  }
  header_ = std::string(kHeader) + "\nboot " + boot_id() + "\n";
  if (!write_all(fd_, header_)) {
    error = "cannot write " + file_ + ": " + std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  running_.clear();
  lines_ = 0;
  return true;
}

void ChildRecords::append(char sign, const Record& record) {
  const std::string line = std::string(1, sign) + " " + std::to_string(record.pid) + " " +
                           std::to_string(record.start) + "\n";
  // One write, so that a crash leaves whole lines only.
  if (!write_all(fd_, line)) return;
  ++lines_;
}

void ChildRecords::started(pid_t pid) {
  if (fd_ < 0) return;
  const auto start = start_time(pid);
  if (!start) return;  // already gone: nothing to leave behind
  running_[pid] = *start;
  append('+', {pid, *start});
}

void ChildRecords::reaped(pid_t pid) {
  if (fd_ < 0) return;
  const auto found = running_.find(pid);
  if (found == running_.end()) return;
  append('-', {pid, found->second});
  running_.erase(found);
  if (lines_ >= kCompactAfter && lines_ >= 4 * running_.size()) compact();
}

// Written beside the file and renamed over it, so that a crash leaves one
// or the other whole.
void ChildRecords::compact() {
  const std::string temporary = file_ + ".new";
  const int fd =
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return;
  std::string text = header_;
  for (const auto& [pid, start] : running_) {
    text += "+ " + std::to_string(pid) + " " + std::to_string(start) + "\n";
  }
  if (!write_all(fd, text) || rename(temporary.c_str(), file_.c_str()) != 0) {
    ::close(fd);
    unlink(temporary.c_str());
    return;
  }
  ::close(fd_);
  fd_ = fd;
  lines_ = running_.size();
}

void ChildRecords::close_and_remove() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  unlink(file_.c_str());
  running_.clear();
}

}  // namespace otpd::process
