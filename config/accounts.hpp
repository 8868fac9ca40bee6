// Users and groups of the machine the config is loaded on, looked up with
// the reentrant NSS calls (getpwnam_r and friends).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace otpd::config {

struct UserEntry {
  std::string name;
  unsigned uid = 0;
  unsigned gid = 0;  // primary group
  std::string home;
  std::string shell;
};

// Each lookup returns nothing when there is no such entry, and throws
// std::runtime_error when the database itself cannot be read.
std::optional<UserEntry> find_user(const std::string& name);
std::optional<UserEntry> find_user(unsigned uid);
std::optional<unsigned> find_group(const std::string& name);
std::optional<std::string> group_name(unsigned gid);

// The groups `user` belongs to, `gid` included, as getgrouplist(3) gives them.
std::vector<unsigned> groups_of(const std::string& user, unsigned gid);

// otpd's own supplementary groups.
std::vector<unsigned> own_groups();

}  // namespace otpd::config
