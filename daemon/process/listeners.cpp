#include "process/listeners.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <deque>
#include <memory>

#include "process/cgroup_fs.hpp"
#include "process/proc_stat.hpp"

namespace otpd::process {
namespace {

constexpr std::size_t kMostProcesses = 4096;
constexpr std::string_view kListen = "0A";  // TCP_LISTEN, as the tables print it

// The address bytes of a table's "0100007F:1F90" (each 32-bit word printed
// as the host reads it), and its port.
bool parse_endpoint(std::string_view text, std::string& bytes, int& port) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || (colon != 8 && colon != 32)) return false;
  bytes.clear();
  for (std::size_t at = 0; at < colon; at += 8) {
    std::uint32_t word = 0;
    const auto [end, error] = std::from_chars(text.data() + at, text.data() + at + 8, word, 16);
    if (error != std::errc{} || end != text.data() + at + 8) return false;
    bytes.append(reinterpret_cast<const char*>(&word), sizeof word);
  }
  const auto [end, error] =
      std::from_chars(text.data() + colon + 1, text.data() + text.size(), port, 16);
  return error == std::errc{} && end == text.data() + text.size();
}

// The bytes of a numeric address, IPv4 ones also as IPv4-mapped IPv6.
std::vector<std::string> forms_of(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  if (inet_pton(AF_INET, host.c_str(), buffer) == 1) {
    std::string v4(reinterpret_cast<const char*>(buffer), 4);
    std::string mapped(10, '\0');
    mapped += "\xff\xff";
    return {v4, mapped + v4};
  }
  if (inet_pton(AF_INET6, host.c_str(), buffer) == 1) {
    return {std::string(reinterpret_cast<const char*>(buffer), 16)};
  }
  return {};
}

std::vector<std::string_view> words_of(std::string_view line) {
  std::vector<std::string_view> words;
  while (!line.empty()) {
    const auto start = line.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    const auto end = std::min(line.find(' '), line.size());
    words.push_back(line.substr(0, end));
    line.remove_prefix(end);
  }
  return words;
}

// "socket:[12345]" → 12345.
std::optional<unsigned long> socket_inode(const char* link) {
  std::string_view text(link);
  if (text.substr(0, 8) != "socket:[" || text.back() != ']') return std::nullopt;
  unsigned long inode = 0;
  const auto [end, error] = std::from_chars(text.data() + 8, text.data() + text.size() - 1, inode);
  if (error != std::errc{} || end != text.data() + text.size() - 1) return std::nullopt;
  return inode;
}

std::unique_ptr<DIR, int (*)(DIR*)> open_dir(const std::string& path) {
  return {opendir(path.c_str()), closedir};
}

}  // namespace

void add_listening_sockets(std::string_view table, const std::string& host, int port,
                           SocketInodes& out) {
  const auto wanted = forms_of(host);
  std::string bytes;
  while (!table.empty()) {
    const auto end = std::min(table.find('\n'), table.size());
    const auto words = words_of(table.substr(0, end));
    table.remove_prefix(std::min(end + 1, table.size()));
    // sl local rem st queues timer retransmits uid timeout inode
    if (words.size() < 10 || words[3] != kListen) continue;
    int local_port = 0;
    if (!parse_endpoint(words[1], bytes, local_port) || local_port != port) continue;
    const bool wildcard = bytes.find_first_not_of('\0') == std::string::npos;
    bool reached = wildcard;
    for (const auto& form : wanted) reached = reached || form == bytes;
    if (!reached) continue;
    unsigned long inode = 0;
    const auto [stop, error] =
        std::from_chars(words[9].data(), words[9].data() + words[9].size(), inode);
    if (error == std::errc{} && inode != 0) out.insert(inode);
  }
}

SocketInodes listening_sockets(pid_t pid, const std::string& host, int port) {
  SocketInodes sockets;
  for (const char* table : {"/net/tcp", "/net/tcp6"}) {
    if (const auto text = cgroupfs::read_file("/proc/" + std::to_string(pid) + table)) {
      add_listening_sockets(*text, host, port, sockets);
    }
  }
  return sockets;
}

bool holds_any(pid_t pid, const SocketInodes& sockets) {
  const std::string fds = "/proc/" + std::to_string(pid) + "/fd";
  auto dir = open_dir(fds);
  if (!dir) return false;
  char link[64];
  while (const dirent* entry = readdir(dir.get())) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    const ssize_t n = readlink((fds + "/" + entry->d_name).c_str(), link, sizeof link - 1);
    if (n <= 0) continue;
    link[n] = '\0';
    if (const auto inode = socket_inode(link); inode && sockets.contains(*inode)) return true;
  }
  return false;
}

std::optional<pid_t> holder_of(const SocketInodes& sockets) {
  auto proc = open_dir("/proc");
  if (!proc) return std::nullopt;
  std::size_t looked = 0;
  while (const dirent* entry = readdir(proc.get())) {
    pid_t pid = 0;
    const std::string_view name(entry->d_name);
    const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (error != std::errc{} || end != name.data() + name.size()) continue;
    if (++looked > 4 * kMostProcesses) break;
    if (holds_any(pid, sockets)) return pid;
  }
  return std::nullopt;
}

std::vector<pid_t> processes_of(pid_t pid, const std::string& cgroup_dir) {
  if (!cgroup_dir.empty()) {
    auto members = cgroupfs::read_pids(cgroup_dir + "/cgroup.procs");
    if (members.size() > kMostProcesses) members.resize(kMostProcesses);
    return members;
  }
  std::vector<pid_t> found;
  std::deque<pid_t> queue{pid};
  while (!queue.empty() && found.size() < kMostProcesses) {
    const pid_t next = queue.front();
    queue.pop_front();
    found.push_back(next);
    for (const pid_t child : children_of(next)) queue.push_back(child);
  }
  return found;
}

}  // namespace otpd::process
