// Who holds a listening TCP socket, from /proc: the kernel's socket tables
// (/proc/PID/net/tcp and tcp6, of the network namespace PID is in) name
// each socket's inode, and a process holds it when one of its descriptors
// links to socket:[INODE]. A readiness check uses it to tell a child's own
// listener from one an earlier copy left running.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace otpd::process {

using SocketInodes = std::unordered_set<unsigned long>;

// Sockets listening on `port` that a connection to `host` (a numeric
// address) reaches: bound to it, or to the wildcard address of its family
// or of IPv6. Read in the network namespace of `pid`.
SocketInodes listening_sockets(pid_t pid, const std::string& host, int port);
// The same from the text of a /proc/net/tcp or tcp6 table (for tests).
void add_listening_sockets(std::string_view table, const std::string& host, int port,
                           SocketInodes& out);
// Whether a descriptor of `pid` is one of `sockets`.
bool holds_any(pid_t pid, const SocketInodes& sockets);
// Some process holding one of `sockets`, searched through /proc (bounded).
std::optional<pid_t> holder_of(const SocketInodes& sockets);
// `pid` and what it started: its cgroup's processes when `cgroup_dir` is
// given, else its descendants. At most a few thousand.
std::vector<pid_t> processes_of(pid_t pid, const std::string& cgroup_dir);

}  // namespace otpd::process
