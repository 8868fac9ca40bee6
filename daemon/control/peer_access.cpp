#include "control/peer_access.hpp"

#include <grp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace otpd::control {
namespace {

std::optional<gid_t> group_id(const config::GroupName& wanted, const char* label,
                              std::string& error) {
  std::vector<char> buffer(1024);
  for (;;) {
    struct group entry {};
    struct group* found = nullptr;
    const int rc = getgrnam_r(wanted.name.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (rc == ERANGE && buffer.size() < (1u << 20)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (found != nullptr) return found->gr_gid;
    std::string where = wanted.where.file;
    if (wanted.where.line > 0) {
      where += ":" + std::to_string(wanted.where.line) + ":" + std::to_string(wanted.where.column);
    }
    error = where + ": control." + label + ": " +
            (rc != 0 ? "cannot look up group '" + wanted.name + "': " + std::strerror(rc)
                     : "no group '" + wanted.name + "' on this system");
    return std::nullopt;
  }
}

}  // namespace

std::optional<AccessPolicy> resolve_access(const config::ControlSpec& control, uid_t owner,
                                           std::string& error) {
  AccessPolicy policy;
  policy.owner = owner;
  if (control.group) {
    policy.group = group_id(*control.group, "group", error);
    if (!policy.group) return std::nullopt;
  }
  if (control.read_group) {
    policy.read_group = group_id(*control.read_group, "read_group", error);
    if (!policy.read_group) return std::nullopt;
  }
  return policy;
}

bool read_peer(int fd, bool with_groups, Peer& peer, std::string& error) {
  ucred cred{};
  socklen_t length = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0) {
    error = std::string("SO_PEERCRED: ") + std::strerror(errno);
    return false;
  }
  peer.uid = cred.uid;
  peer.gid = cred.gid;
  peer.pid = cred.pid;
  peer.groups.clear();
  if (!with_groups) return true;
  // The kernel says how much room the list needs when the buffer is short.
  peer.groups.resize(32);
  for (;;) {
    socklen_t bytes = static_cast<socklen_t>(peer.groups.size() * sizeof(gid_t));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, peer.groups.data(), &bytes) == 0) {
      peer.groups.resize(bytes / sizeof(gid_t));
      return true;
    }
    if (errno != ERANGE || bytes / sizeof(gid_t) <= peer.groups.size()) {
      error = std::string("SO_PEERGROUPS: ") + std::strerror(errno);
      peer.groups.clear();
      return false;
    }
    peer.groups.resize(bytes / sizeof(gid_t));
  }
}

Access access_of(const AccessPolicy& policy, const Peer& peer) {
  if (peer.uid == 0 || peer.uid == policy.owner) return Access::full;
  auto member = [&](std::optional<gid_t> group) {
    return group && (peer.gid == *group || std::find(peer.groups.begin(), peer.groups.end(),
                                                     *group) != peer.groups.end());
  };
  if (member(policy.group)) return Access::full;
  if (member(policy.read_group)) return Access::read;
  return Access::none;
}

}  // namespace otpd::control
