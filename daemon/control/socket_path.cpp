#include "control/socket_path.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "control/socket_dir.hpp"
#include "protocol/socket_path.hpp"

namespace otpd::control {
namespace {

std::string errno_text(int error) {
  return std::strerror(error);
}

bool fill_address(const std::string& path, sockaddr_un& address, std::string& error) {
  address = {};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address.sun_path) {
    error = "socket path '" + path + "' must be 1 to " +
            std::to_string(sizeof address.sun_path - 1) + " bytes long";
    return false;
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  return true;
}

// Creates every missing directory above the socket. Directories otpd makes
// are its own: 0700, or 0711 so that group members can reach the socket.
bool make_parents(const std::string& path, mode_t mode, std::string& error) {
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash);
    if (mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) {
      error = "cannot create the directory " + dir + ": " + errno_text(errno);
      return false;
    }
  }
  return true;
}

enum class Occupant { nobody, stale, live };

// Whether a process accepts connections on the file at `address`.
Occupant probe(const std::string& path, const sockaddr_un& address, std::string& error) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Occupant::nobody;
    error = "cannot examine " + path + ": " + errno_text(errno);
    return Occupant::live;
  }
  if (!S_ISSOCK(st.st_mode)) {
    error = path + " exists and is not a socket; remove it or choose another path";
    return Occupant::live;
  }
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = "socket: " + errno_text(errno);
    return Occupant::live;
  }
  const int rc = connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  const int connect_error = errno;
  close(fd);
  if (rc == 0) {
    error = "another otpd is already listening on " + path;
    return Occupant::live;
  }
  if (connect_error == ECONNREFUSED) return Occupant::stale;
  error = "cannot tell whether another otpd listens on " + path + ": " + errno_text(connect_error);
  return Occupant::live;
}

mode_t socket_mode(const AccessPolicy& policy) {
  if (policy.group && policy.read_group) return 0666;
  if (policy.has_groups()) return 0660;
  return 0600;
}

}  // namespace

std::string choose_socket_path(const std::string& flag, const std::string& configured) {
  const protocol::Getenv getenv = [](const char* name) { return std::getenv(name); };
  std::string named = protocol::named_socket_path(flag, getenv, configured);
  return named.empty() ? protocol::default_socket_path(getenv, geteuid()) : named;
}

std::optional<ListeningSocket> listen_on(const std::string& path, const AccessPolicy& policy,
                                         std::string& error) {
  sockaddr_un address{};
  if (!fill_address(path, address, error)) return std::nullopt;
  if (!make_parents(path, policy.has_groups() ? 0711 : 0700, error)) return std::nullopt;
  // Before anything is done there: from now on only otpd's user and root
  // can change what the path names.
  const std::size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  if (!check_socket_dir(dir, policy.owner, error)) return std::nullopt;

  switch (probe(path, address, error)) {
    case Occupant::live:
      return std::nullopt;
    case Occupant::stale:
      if (unlink(path.c_str()) != 0 && errno != ENOENT) {
        error = "cannot remove the stale socket " + path + ": " + errno_text(errno);
        return std::nullopt;
      }
      break;
    case Occupant::nobody:
      break;
  }

  ListeningSocket result;
  result.path = path;
  result.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (result.fd < 0) {
    error = "socket: " + errno_text(errno);
    return std::nullopt;
  }
  auto give_up = [&](std::string why) {
    error = std::move(why);
    close(result.fd);
    return std::nullopt;
  };
  // The file is born with its final mode (no moment when it is wider); no
  // other thread exists yet to be surprised by the umask.
  const mode_t mode = socket_mode(policy);
  const mode_t old_umask = umask(0777 & ~mode);
  const int bound = bind(result.fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  const int bind_error = errno;
  umask(old_umask);
  if (bound != 0) return give_up("cannot bind " + path + ": " + errno_text(bind_error));

  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    result.dev = st.st_dev;
    result.ino = st.st_ino;
  }
  const std::optional<gid_t> owner_group = policy.group && policy.read_group ? std::nullopt
                                           : policy.group                    ? policy.group
                                                                             : policy.read_group;
  if (owner_group && fchownat(AT_FDCWD, path.c_str(), static_cast<uid_t>(-1), *owner_group,
                              AT_SYMLINK_NOFOLLOW) != 0) {
    const int chown_error = errno;
    unlink(path.c_str());
    return give_up("cannot give " + path + " to group " + std::to_string(*owner_group) + ": " +
                   errno_text(chown_error));
  }
  // Room for a burst of clients connecting at once.
  if (listen(result.fd, 4096) != 0) {
    const int listen_error = errno;
    unlink(path.c_str());
    return give_up("cannot listen on " + path + ": " + errno_text(listen_error));
  }
  return result;
}

void remove_socket_file(const ListeningSocket& socket) {
  struct stat st {};
  if (lstat(socket.path.c_str(), &st) != 0) return;
  if (st.st_dev == socket.dev && st.st_ino == socket.ino) unlink(socket.path.c_str());
}

}  // namespace otpd::control
