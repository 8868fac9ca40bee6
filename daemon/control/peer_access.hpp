// Who is on the other end of a control connection, and what they may do.
// The socket's mode keeps strangers out; this check is what stands when the
// mode is widened for groups, so it runs on every connection.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "config/spec.hpp"

namespace otpd::control {

enum class Access { none, read, full };

struct AccessPolicy {
  uid_t owner = 0;  // otpd's own user
  std::optional<gid_t> group;
  std::optional<gid_t> read_group;

  bool has_groups() const { return group || read_group; }
};

// Resolves the group names of `control` for otpd running as `owner`;
// returns nothing and sets `error` ("FILE:LINE:COL: control.group: no group
// 'x'") when a group does not exist.
std::optional<AccessPolicy> resolve_access(const config::ControlSpec& control, uid_t owner,
                                           std::string& error);

struct Peer {
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
  std::vector<gid_t> groups;  // supplementary; read only when a policy names groups
};

// Reads the credentials of the process connected on socket `fd`.
bool read_peer(int fd, bool with_groups, Peer& peer, std::string& error);

Access access_of(const AccessPolicy& policy, const Peer& peer);

}  // namespace otpd::control
