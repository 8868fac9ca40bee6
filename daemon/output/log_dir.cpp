#include "output/log_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace otpd::output {
namespace {

std::string because(const std::string& what, int error) {
  return what + ": " + std::strerror(error);
}

const char* kind_of(mode_t mode) {
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

std::string refusal(const std::string& path, const std::string& why) {
  return "cannot open " + path + ": " + why + "; otpd writes only to a regular file of its own";
}

}  // namespace

std::shared_ptr<const LogDir> LogDir::open(const std::string& path, std::string& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    error = because("cannot open " + path, errno);
    return nullptr;
  }
  return std::shared_ptr<const LogDir>(new LogDir(fd, path));
}

LogDir::~LogDir() {
  ::close(fd_);
}

std::string LogDir::path_of(std::string_view name) const {
  return path_ + "/" + std::string(name);
}

int LogDir::open_for_append(const std::string& name, std::string& error) const {
  const std::string path = path_of(name);
  // O_NOFOLLOW: a planted link is refused, not written through. O_NONBLOCK:
  // a planted FIFO fails at once (ENXIO) instead of hanging otpd until a
  // reader comes. O_APPEND: a file another program (logrotate, an
  // operator) shortened or also writes to is never overwritten in the middle.
  const int fd = ::openat(
      fd_, name.c_str(),
      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0640);
  if (fd < 0) {
    const int open_error = errno;
    struct stat st {};
    if (fstatat(fd_, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) {
      error = refusal(path, std::string("it is ") + kind_of(st.st_mode));
    } else {
      error = because("cannot open " + path, open_error);
    }
    return -1;
  }
  struct stat st {};
  std::string why;
  if (fstat(fd, &st) != 0) {
    why = because("cannot examine it", errno);
  } else if (!S_ISREG(st.st_mode)) {
    why = std::string("it is ") + kind_of(st.st_mode);
  } else if (st.st_uid != geteuid()) {
    // Whoever owns it chose where it points and may read what is written.
    why = "it belongs to uid " + std::to_string(st.st_uid) + ", not to otpd's uid " +
          std::to_string(geteuid());
  } else if (st.st_nlink > 1) {
    // A hard link planted in the directory would send the output to the
    // same file under another name elsewhere.
    why = "it has " + std::to_string(st.st_nlink) + " hard links";
  }
  if (!why.empty()) {
    ::close(fd);
    error = refusal(path, why);
    return -1;
  }
  fcntl(fd, F_SETFL, O_APPEND);  // writes to a regular file wait for the disk, as before
  return fd;
}

bool LogDir::rename(const std::string& from, const std::string& to, std::string& error) const {
  if (::renameat(fd_, from.c_str(), fd_, to.c_str()) != 0 && errno != ENOENT) {
    error = because("cannot rename " + path_of(from), errno);
    return false;
  }
  return true;
}

bool LogDir::remove(const std::string& name, std::string& error) const {
  if (::unlinkat(fd_, name.c_str(), 0) != 0 && errno != ENOENT) {
    error = because("cannot remove " + path_of(name), errno);
    return false;
  }
  return true;
}

}  // namespace otpd::output
