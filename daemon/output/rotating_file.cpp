#include "output/rotating_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace otpd::output {
namespace {

std::string because(const std::string& what, int error) {
  return what + ": " + std::strerror(error);
}

}  // namespace

RotatingFile::RotatingFile(std::shared_ptr<const LogDir> dir, std::string name,
                           std::uint64_t max_size, int keep)
    : dir_(std::move(dir)), name_(std::move(name)), max_size_(max_size), keep_(keep) {}

RotatingFile::~RotatingFile() {
  std::string ignored;
  flush(ignored);
  if (fd_ >= 0) ::close(fd_);
}

bool RotatingFile::open(std::string& error) {
  if (fd_ >= 0) return true;
  const int fd = dir_->open_for_append(name_, error);
  if (fd < 0) return false;
  struct stat st {};
  size_ = fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  fd_ = fd;
  return true;
}

std::string RotatingFile::numbered(int n) const {
  return name_ + "." + std::to_string(n);
}

bool RotatingFile::rotate(std::string& error) {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (keep_ == 0) {
    if (!dir_->remove(name_, error)) return false;
  } else {
    // Oldest first, so that nothing is overwritten before it has moved on;
    // rename() replaces X.log.KEEP, dropping the oldest. A rename moves a
    // link itself, never what it points to.
    for (int n = keep_ - 1; n >= 1; --n) {
      if (!dir_->rename(numbered(n), numbered(n + 1), error)) return false;
    }
    if (!dir_->rename(name_, numbered(1), error)) return false;
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
      error = because("cannot write " + path(), errno);
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
