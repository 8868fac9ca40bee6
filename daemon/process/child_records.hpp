// Without cgroups, the record of the processes otpd started, kept in a
// small file beside the control socket, so that an otpd that starts after
// a killed one can end what is left of its children (docs/spawning.md,
// "What outlives otpd"). A process is named by its pid and its start time
// (field 22 of /proc/PID/stat, in clock ticks since boot): a pid alone may
// belong to an unrelated process by the time it is read back.
//
// The file is text, appended to with one write(2) per line so that a
// crash leaves whole lines:
//
//   otpd-children 1
//   boot 6f3c...            (/proc/sys/kernel/random/boot_id)
//   + 4242 123456           (started: pid, start time)
//   - 4242 123456           (reaped)
//
// Records of another boot are ignored. The file is rewritten when it has
// grown well beyond what runs, and removed at an orderly exit.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace otpd::process {

class ChildRecords {
 public:
  explicit ChildRecords(std::string file);
  ~ChildRecords();
  ChildRecords(const ChildRecords&) = delete;
  ChildRecords& operator=(const ChildRecords&) = delete;

  const std::string& file() const { return file_; }

  struct Record {
    pid_t pid = 0;
    std::uint64_t start = 0;
    bool operator==(const Record&) const = default;
  };
  // The records of processes started and not reaped, from a file's text;
  // none when it is not such a file or was written in another boot.
  static std::vector<Record> running_in(std::string_view text, std::string_view boot_id);
  // A process's start time, or nothing when there is no such process.
  static std::optional<std::uint64_t> start_time(pid_t pid);
  static std::string boot_id();

  // Reads what a previous otpd recorded and ends (SIGKILL) each process that
  // still runs with the recorded start time, and its process group when it
  // still leads it; a pid now held by another process is left alone. Waits
  // up to `patience` for them to exit. Then the file is removed.
  struct Ended {
    std::size_t ended = 0;    // processes killed
    std::size_t skipped = 0;  // recorded pids now held by other processes
    std::size_t remaining = 0;
  };
  Ended end_leftovers(std::chrono::milliseconds patience);

  // Starts a new record (the file is created or emptied). False with
  // `error` when the file cannot be written; nothing is recorded then.
  bool open(std::string& error);
  bool is_open() const { return fd_ >= 0; }
  void started(pid_t pid);
  void reaped(pid_t pid);
  // At an orderly exit: nothing of the tree runs any more.
  void close_and_remove();

 private:
  void append(char sign, const Record& record);
  void compact();

  std::string file_;
  int fd_ = -1;
  std::string header_;
  std::unordered_map<pid_t, std::uint64_t> running_;
  std::size_t lines_ = 0;
};

}  // namespace otpd::process
