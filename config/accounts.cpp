#include "config/accounts.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace otpd::config {
namespace {

constexpr std::size_t kFirstBufferSize = 4096;
constexpr std::size_t kLargestBuffer = 1 << 20;

// Calls a getXXnam_r-style function with a buffer that grows while it is too
// small. `call` returns the function's error number.
template <typename Call>
bool lookup(const char* what, Call call) {
  std::vector<char> buffer(kFirstBufferSize);
  while (true) {
    bool found = false;
    const int error = call(buffer, found);
    if (error == ERANGE && buffer.size() < kLargestBuffer) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    // "Not found" is reported as 0, ENOENT, ESRCH, EBADF or EPERM depending
    // on the NSS module (getpwnam_r(3)).
    if (error == 0 || error == ENOENT || error == ESRCH || error == EBADF || error == EPERM) {
      return found;
    }
    throw std::runtime_error(std::string("cannot read the ") + what +
                             " database: " + std::strerror(error));
  }
}

// The strings of a passwd entry live in the lookup's buffer: copied at once.
UserEntry copy_of(const passwd& entry) {
  return {entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir ? entry.pw_dir : "",
          entry.pw_shell ? entry.pw_shell : ""};
}

}  // namespace

std::optional<UserEntry> find_user(const std::string& name) {
  std::optional<UserEntry> user;
  lookup("user", [&](std::vector<char>& buffer, bool& hit) {
    passwd entry{};
    passwd* result = nullptr;
    const int error = getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &result);
    hit = result != nullptr;
    if (hit) user = copy_of(entry);
    return error;
  });
  return user;
}

std::optional<UserEntry> find_user(unsigned uid) {
  std::optional<UserEntry> user;
  lookup("user", [&](std::vector<char>& buffer, bool& hit) {
    passwd entry{};
    passwd* result = nullptr;
    const int error = getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &result);
    hit = result != nullptr;
    if (hit) user = copy_of(entry);
    return error;
  });
  return user;
}

std::optional<unsigned> find_group(const std::string& name) {
  group entry{};
  const bool found = lookup("group", [&](std::vector<char>& buffer, bool& hit) {
    group* result = nullptr;
    const int error = getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &result);
    hit = result != nullptr;
    return error;
  });
  if (!found) return std::nullopt;
  return entry.gr_gid;
}

std::optional<std::string> group_name(unsigned gid) {
  group entry{};
  std::string name;
  const bool found = lookup("group", [&](std::vector<char>& buffer, bool& hit) {
    group* result = nullptr;
    const int error = getgrgid_r(gid, &entry, buffer.data(), buffer.size(), &result);
    hit = result != nullptr;
    if (hit) name = entry.gr_name;
    return error;
  });
  if (!found) return std::nullopt;
  return name;
}

std::vector<unsigned> groups_of(const std::string& user, unsigned gid) {
  std::vector<gid_t> groups(32);
  int count = static_cast<int>(groups.size());
  while (getgrouplist(user.c_str(), gid, groups.data(), &count) < 0) {
    // On -1, count holds the number needed.
    if (static_cast<std::size_t>(count) <= groups.size())
      count = static_cast<int>(groups.size()) * 2;
    groups.resize(static_cast<std::size_t>(count));
  }
  return {groups.begin(), groups.begin() + count};
}

std::vector<unsigned> own_groups() {
  const int count = getgroups(0, nullptr);
  if (count <= 0) return {};
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  const int got = getgroups(count, groups.data());
  return {groups.begin(), groups.begin() + std::max(got, 0)};
}

}  // namespace otpd::config
