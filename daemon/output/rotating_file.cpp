#include "output/rotating_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace otpd::output {
namespace {

std::string because(const std::string& what, int error) {
  return what + ": " + std::strerror(error);
}

}  // namespace

RotatingFile::RotatingFile(std::string path, std::uint64_t max_size, int keep)
    : path_(std::move(path)), max_size_(max_size), keep_(keep) {}

RotatingFile::~RotatingFile() {
  std::string ignored;
  flush(ignored);
  if (fd_ >= 0) ::close(fd_);
}

bool RotatingFile::open(std::string& error) {
  if (fd_ >= 0) return true;
  // O_APPEND: a file another program (logrotate, an operator) shortened or
  // also writes to is never overwritten in the middle.
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    error = because("cannot open " + path_, errno);
    return false;
  }
  struct stat st {};
  size_ = fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  fd_ = fd;
  return true;
}

std::string RotatingFile::numbered(int n) const {
  return path_ + "." + std::to_string(n);
}

bool RotatingFile::rotate(std::string& error) {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (keep_ == 0) {
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
      error = because("cannot remove " + path_, errno);
      return false;
    }
  } else {
    // Oldest first, so that nothing is overwritten before it has moved on;
    // rename() replaces X.log.KEEP, dropping the oldest.
    for (int n = keep_ - 1; n >= 1; --n) {
      if (::rename(numbered(n).c_str(), numbered(n + 1).c_str()) != 0 && errno != ENOENT) {
        error = because("cannot rename " + numbered(n), errno);
        return false;
      }
    }
    if (::rename(path_.c_str(), numbered(1).c_str()) != 0 && errno != ENOENT) {
      error = because("cannot rename " + path_, errno);
      return false;
    }
  }
  size_ = 0;
  return open(error);
}

bool RotatingFile::add_line(std::string_view line, std::string& error) {
  if (fd_ < 0 && !open(error)) return false;
  if (size() > 0 && size() + line.size() > max_size_) {
    if (!flush(error)) return false;
    if (!rotate(error)) return false;
  }
  pending_.append(line);
  return true;
}

bool RotatingFile::flush(std::string& error) {
  if (pending_.empty()) return true;
  if (fd_ < 0) {
    pending_.clear();
    return true;
  }
  std::string_view rest = pending_;
  bool ok = true;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd_, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      // A full disk must not stop the supervisor: these lines are lost, the
      // caller is told, and the next batch tries again.
      error = because("cannot write " + path_, errno);
      ok = false;
      break;
    }
    size_ += static_cast<std::uint64_t>(n);
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  pending_.clear();
  if (pending_.capacity() > 256 * 1024) std::string().swap(pending_);
  return ok;
}

}  // namespace otpd::output
