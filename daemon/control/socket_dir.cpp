#include "control/socket_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <deque>
#include <utility>

namespace otpd::control {
namespace {

// The kernel gives up after as many links in one lookup.
constexpr int kMaxLinks = 40;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::deque<std::string> names_in(const std::string& path) {
  std::deque<std::string> names;
  std::size_t from = 0;
  while (from <= path.size()) {
    std::size_t slash = path.find('/', from);
    if (slash == std::string::npos) slash = path.size();
    std::string name = path.substr(from, slash - from);
    if (!name.empty() && name != ".") names.push_back(std::move(name));
    from = slash + 1;
  }
  return names;
}

std::string joined(const std::string& dir, const std::string& name) {
  if (name == "..") {
    const std::size_t slash = dir.rfind('/');
    return slash == 0 || slash == std::string::npos ? "/" : dir.substr(0, slash);
  }
  return dir == "/" ? "/" + name : dir + "/" + name;
}

std::string mode_text(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// What is wrong with `st` for otpd running as `owner`, or empty. A
// directory open to all writers is fine when it is sticky and root's, as
// /tmp is: there nobody may rename or remove what otpd (or root) owns, and
// a name taken first by someone else makes otpd refuse to start rather than
// listen beside it.
std::string faults(const struct stat& st, uid_t owner) {
  std::string found;
  if (st.st_uid != 0 && st.st_uid != owner) {
    found = "it belongs to uid " + std::to_string(st.st_uid) + ", neither otpd's user (uid " +
            std::to_string(owner) + ") nor root";
  }
  if (S_ISLNK(st.st_mode)) return found;  // a link's own mode means nothing
  const bool shared_sticky = (st.st_mode & S_ISVTX) && st.st_uid == 0;
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && !shared_sticky) {
    if (!found.empty()) found += ", and ";
    found += (st.st_mode & S_IWOTH) ? "any user may write to it" : "its group may write to it";
  }
  return found;
}

// `label` names what is refused: "the directory /x above the control socket".
bool refuse(std::string& error, const std::string& label, const struct stat& st,
            const std::string& fault, uid_t owner, bool holds_socket) {
  error = label + " (owner uid " + std::to_string(st.st_uid) +
          (S_ISLNK(st.st_mode) ? "" : ", mode " + mode_text(st.st_mode)) +
          ") is not safe: " + fault +
          ". Whoever can change it can replace the socket and receive the requests meant for "
          "otpd. Give it to uid " +
          std::to_string(owner) + " or root, without write permission for group and others" +
          (holds_socket ? " (or remove it: otpd creates a missing one, mode 0700)" : "") +
          ", or choose another place for the socket (--socket, OTPD_SOCKET, control.socket)";
  return false;
}

bool cannot(std::string& error, const std::string& what, const std::string& path, int code) {
  error = "cannot examine " + what + " " + path + ": " + std::strerror(code);
  return false;
}

}  // namespace

bool check_socket_dir(const std::string& dir, uid_t owner, std::string& error) {
  std::string start = dir;
  if (start.empty() || start.front() != '/') {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == nullptr) return cannot(error, "the directory", ".", errno);
    start = std::string(cwd) + "/" + start;
  }
  std::deque<std::string> rest = names_in(start);
  Fd current(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  std::string where = "/";
  if (current.get() < 0) return cannot(error, "the directory", where, errno);
  struct stat st {};
  if (fstat(current.get(), &st) != 0) return cannot(error, "the directory", where, errno);
  if (const std::string fault = faults(st, owner); !rest.empty() && !fault.empty()) {
    return refuse(error, "the directory " + where + " above the control socket", st, fault, owner,
                  false);
  }
  int links = 0;
  while (!rest.empty()) {
    const std::string name = std::move(rest.front());
    rest.pop_front();
    const std::string path = joined(where, name);
    // O_PATH | O_NOFOLLOW: the entry itself, link or not, as it is now; a
    // link is then read and its target walked the same way.
    Fd next(::openat(current.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (next.get() < 0) return cannot(error, "the directory", path, errno);
    if (fstat(next.get(), &st) != 0) return cannot(error, "the directory", path, errno);
    if (S_ISLNK(st.st_mode)) {
      if (++links > kMaxLinks) return cannot(error, "the directory", start, ELOOP);
      if (const std::string fault = faults(st, owner); !fault.empty()) {
        return refuse(error, "the link " + path + " on the way to the control socket", st, fault,
                      owner, false);
      }
      char target[PATH_MAX];
      const ssize_t length = readlinkat(next.get(), "", target, sizeof target - 1);
      if (length < 0) return cannot(error, "the link", path, errno);
      const std::string text(target, static_cast<std::size_t>(length));
      std::deque<std::string> names = names_in(text);
      rest.insert(rest.begin(), names.begin(), names.end());
      if (text.front() == '/') {
        current = Fd(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
        where = "/";
        if (current.get() < 0) return cannot(error, "the directory", where, errno);
      }
      continue;
    }
    if (!S_ISDIR(st.st_mode)) return cannot(error, "the directory", path, ENOTDIR);
    // The last one is checked below, as the socket's own.
    if (const std::string fault = faults(st, owner); !rest.empty() && !fault.empty()) {
      return refuse(error, "the directory " + path + " above the control socket", st, fault, owner,
                    false);
    }
    current = std::move(next);
    where = path;
  }
  // The directory the walk ended in holds the socket.
  if (fstat(current.get(), &st) != 0) return cannot(error, "the directory", where, errno);
  if (const std::string fault = faults(st, owner); !fault.empty()) {
    return refuse(error, "the control socket's directory " + where, st, fault, owner, true);
  }
  return true;
}

}  // namespace otpd::control
