// A child's log file with size-based rotation: when a line would take the
// file past `max_size`, X.log becomes X.log.1 (X.log.1 becomes X.log.2, and
// so on; X.log.KEEP is dropped) and a new X.log is begun. A line is never
// split between two files, so one longer than max_size gets a file alone.
// Every step goes through the LogDir, never through a path a link could
// redirect.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "output/log_dir.hpp"

namespace otpd::output {

class RotatingFile {
 public:
  RotatingFile(std::shared_ptr<const LogDir> dir, std::string name, std::uint64_t max_size,
               int keep);
  ~RotatingFile();
  RotatingFile(const RotatingFile&) = delete;
  RotatingFile& operator=(const RotatingFile&) = delete;

  // Opens (creating, mode 0640) the file for appending; false with `error`.
  bool open(std::string& error);
  bool is_open() const { return fd_ >= 0; }

  // Queues one whole line (with its newline), rotating first when it would
  // not fit. The queue is written by flush() or when a rotation needs it.
  // False with `error` when a write or a rotation failed.
  bool add_line(std::string_view line, std::string& error);
  bool flush(std::string& error);

  std::string path() const { return dir_->path_of(name_); }
  std::uint64_t size() const { return size_ + pending_.size(); }

 private:
  bool rotate(std::string& error);
  std::string numbered(int n) const;

  std::shared_ptr<const LogDir> dir_;
  std::string name_;
  std::uint64_t max_size_;
  int keep_;
  int fd_ = -1;
  std::uint64_t size_ = 0;  // written to the current file
  std::string pending_;
};

}  // namespace otpd::output
