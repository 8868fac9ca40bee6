#include "client/socket_trust.hpp"

#include <sys/stat.h>

#include <cstdio>

namespace otpd::client {
namespace {

std::string described(const std::string& dir, const struct stat& st) {
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return dir + " (owner uid " + std::to_string(st.st_uid) + ", mode " + mode + ")";
}

bool ours(uid_t owner, uid_t uid) {
  return owner == 0 || owner == uid;
}

}  // namespace

std::optional<std::string> socket_distrust(const std::string& path, bool chosen, uid_t uid) {
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return std::nullopt;
  const std::string refusing =
      "refusing to use the socket " + path + ": its directory " + described(dir, st);
  const std::string remedy =
      "; fix the directory, or name another socket with --socket or OTPD_SOCKET";
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    if ((st.st_mode & S_ISVTX) == 0) {
      return refusing + " may be written by other users, who could replace the socket" + remedy;
    }
    // In a sticky directory only the owner of an entry may replace it.
    struct stat socket_st {};
    if (::lstat(path.c_str(), &socket_st) == 0 && !ours(socket_st.st_uid, uid)) {
      return refusing + " may be written by other users, and the socket there belongs to uid " +
             std::to_string(socket_st.st_uid) + remedy;
    }
  }
  if (!chosen && !ours(st.st_uid, uid)) {
    return refusing + " belongs to another user, who could put any socket there" + remedy;
  }
  return std::nullopt;
}

}  // namespace otpd::client
