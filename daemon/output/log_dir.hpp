// The directory of the children's log files, opened once. Every file in it
// is opened, renamed and removed relative to that descriptor and never
// through a symbolic link: a directory others may write to cannot turn
// otpd's appends (as root, perhaps) against a file elsewhere.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace otpd::output {

class LogDir {
 public:
  // Opens the directory `path`; nothing, with `error`, when it cannot.
  static std::shared_ptr<const LogDir> open(const std::string& path, std::string& error);
  ~LogDir();
  LogDir(const LogDir&) = delete;
  LogDir& operator=(const LogDir&) = delete;

  const std::string& path() const { return path_; }
  std::string path_of(std::string_view name) const;

  // Opens the file `name` in it for appending, creating it with mode 0640
  // when missing. Refuses a symbolic link, anything but a regular file, a
  // file of another user and one with other hard links: -1 with `error`
  // saying which. The descriptor is close-on-exec and blocking.
  int open_for_append(const std::string& name, std::string& error) const;
  // rename(2) and unlink(2) within the directory; a missing `from`/`name`
  // is not an error. False with `error`.
  bool rename(const std::string& from, const std::string& to, std::string& error) const;
  bool remove(const std::string& name, std::string& error) const;

 private:
  LogDir(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  int fd_;
  std::string path_;
};

}  // namespace otpd::output
